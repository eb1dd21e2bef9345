package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verify detects the format as decode does: every format's cookie verifies
// without --format.
func TestVerifyDetectsFormat(t *testing.T) {
	for _, f := range formatNames() {
		c := signed(t, t0, testKey, `{"lang":"de"}`, "--format", f)
		code, out, errs := ctl(t, t0, "", "verify", "--key", testKey, c)
		require.Equal(t, 0, code, "%s: stderr %q", f, errs)
		assert.Contains(t, out, "verified: YES (format "+f+", detected: ", f)
		assert.Contains(t, out, `"lang": "de"`, f)
	}
}

// storeCookie is the cookie of a store-mode session written by the
// middleware with cookie name name.
func storeCookie(t *testing.T, name string) string {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	m, err := sessions.New(sessions.SessionConfig{SecretKey: testKey, Store: store, CookieName: name, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessions.Login(r.Context(), "ann"))
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	require.Fail(t, "no cookie")
	return ""
}

// A store-mode id is verified as one (signature, cookie name, age), and
// reported as a valid session id whose data is on the server.
func TestVerifyStoreID(t *testing.T) {
	id := storeCookie(t, "session")
	code, out, errs := ctl(t, t0.Add(time.Minute), "", "verify", "--key", testKey, id)
	require.Equal(t, 0, code, "stderr %q", errs)
	assert.Contains(t, out, "a valid session id (the data is on the server")
	code, _, errs = ctl(t, t0.Add(time.Minute), "", "verify", "--key", otherKey, id)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "not a valid session id for this key and cookie name")
	assert.Contains(t, errs, "likely cause: a wrong key, or the cookie name")
	code, _, errs = ctl(t, t0.Add(sessions.DefaultMaxAge+time.Hour), "", "verify", "--key", testKey, id)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "session expired")

	// Under another name: the likely cause is the name, which sessionctl
	// finds among the usual ones.
	sid := storeCookie(t, "sessionid")
	code, _, errs = ctl(t, t0, "", "verify", "--key", testKey, sid)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `likely cause: the cookie name: it verifies as "sessionid"`)
	code, out, _ = ctl(t, t0, "", "verify", "--key", testKey, "sessionid="+sid)
	assert.Equal(t, 0, code, "a cookie pasted as sessionid=VALUE names itself")
	assert.Contains(t, out, `cookie name "sessionid"`)
	// Given a --format, a store id is named as the likely cause.
	code, _, errs = ctl(t, t0, "", "verify", "--key", testKey, "--format", "flask", id)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "likely cause: it is a server-side session id")
}

// A rejected cookie comes with its likely cause: another format, the
// cookie name, or the key.
func TestVerifyLikelyCause(t *testing.T) {
	flask := signed(t, t0, testKey, `{"a":1}`, "--format", "flask")
	named := signed(t, t0, testKey, `{"a":1}`, "--name", "sessionid")
	odd := signed(t, t0, testKey, `{"a":1}`, "--name", "my_app")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", testKey, "--format", "itsdangerous", flask}, "likely cause: it is a flask cookie, not itsdangerous (--format flask)"},
		{[]string{"--key", testKey, "--format", "starlette", flask}, "likely cause: it is a flask cookie"},
		{[]string{"--key", otherKey, flask}, "likely cause: a wrong key (it verifies under no format with this key; format flask does not sign the cookie name)"},
		{[]string{"--key", testKey, named}, `likely cause: the cookie name: it verifies as "sessionid", not "session" (--name sessionid)`},
		{[]string{"--key", testKey, odd}, `likely cause: a wrong key, or the cookie name: format itsdangerous is signed with the cookie's name (checked as "session"; give --name)`},
	} {
		code, _, errs := ctl(t, t0, "", append([]string{"verify"}, tt.args...)...)
		assert.Equal(t, 1, code, "%q", tt.args)
		assert.Contains(t, errs, tt.want, "%q", tt.args)
	}
}

// sign --user mints a logged-in cookie in every format: verify and the
// middleware see the user.
func TestSignUser(t *testing.T) {
	for _, f := range formatNames() {
		c := signed(t, t0, testKey, `{"cart":"apple"}`, "--format", f, "--user", "u-7")
		m, err := sessions.New(sessions.SessionConfig{SecretKey: testKey, Format: parseFormat(t, f), Now: func() time.Time { return t0 }})
		require.NoError(t, err)
		var uid string
		var cart any
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: c})
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			uid, cart = s.UserID(), func() any { v, _ := s.Get("cart"); return v }()
		})).ServeHTTP(httptest.NewRecorder(), req)
		assert.Equal(t, "u-7", uid, f)
		assert.Equal(t, "apple", cart, f)
		if f != "encrypted" {
			code, out, errs := ctl(t, t0, "", "verify", "--key", testKey, c)
			require.Equal(t, 0, code, "%s: %q", f, errs)
			assert.Contains(t, out, "user:     u-7", f)
		}
	}
	// Flask-Login's session protection identifier is computed for the
	// given client: remote address 127.0.0.1 and User-Agent curl/8.5.0
	// give Flask-Login 0.6.2's value.
	c := signed(t, t0, testKey, `{}`, "--format", "flask", "--user", "7", "--remote-addr", "127.0.0.1", "--user-agent", "curl/8.5.0")
	code, out, errs := ctl(t, t0, "", "verify", "--key", testKey, c)
	require.Equal(t, 0, code, "stderr %q", errs)
	assert.Contains(t, out, `"_id": "36646aa58fb1704b0c91f63d25a2ea3f646133864435a284f63032429e0e21acd30239c0875c0be3c470d75a3eccd0b19f9cba433db25df33ac7effd1fa6757e"`)
	code, _, errs = ctl(t, t0, "", "sign", "--key", testKey, "--user-agent", "x", `{}`)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "go with --user")
	code, _, errs = ctl(t, t0, "", "sign", "--key", testKey, "--user", "7", `{"_ctxsession":1}`)
	assert.Equal(t, 0, code, "a reserved key is dropped, as by Encode: %q", errs)
}

// A Django cookie is detected by its shape and verified, user included.
func TestVerifyDjango(t *testing.T) {
	c := signed(t, t0, testKey, `{"lang":"de"}`, "--format", "django", "--user", "3", "--name", "sessionid")
	code, out, errs := ctl(t, t0, "", "decode", c)
	require.Equal(t, 0, code, "stderr %q", errs)
	assert.Contains(t, out, "format:   django (detected: ':' separators, base62 timestamp)")
	assert.Contains(t, out, "user:     3 (from _auth_user_id)")
	code, out, errs = ctl(t, t0, "", "verify", "--key", testKey, "sessionid="+c)
	require.Equal(t, 0, code, "stderr %q", errs)
	assert.Contains(t, out, "verified: YES (format django")
	assert.True(t, strings.Contains(out, `"lang": "de"`), out)
	code, _, errs = ctl(t, t0, "", "decode", "a:!!:b")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "bad timestamp")
}
