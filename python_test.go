package sessions_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Tests of what sharing sessions with Python frameworks needs: Flask-Login's
// session protection, Flask's session.permanent, remember-me cookies,
// OnLogin, FormatDjango, microdot's FormatJWT, the values Python's json
// writes, and the cookie size rules. The vectors were made by the Python
// libraries themselves (Flask-Login 0.6.2, Django 3.2, PyJWT); the interop
// module runs the frameworks against the library across processes.

const pyKey = "python-test-secret-key-0123456789abcdef"

var pyT0 = time.Unix(1700000000, 0)

// pyNew returns a Middleware for cfg, with pyKey and a clock at pyT0 when
// cfg has none.
func pyNew(t testing.TB, cfg sessions.SessionConfig) *sessions.Middleware {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = pyKey
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return pyT0 }
	}
	m, err := sessions.New(cfg)
	require.NoError(t, err)
	return m
}

// pyResult is what one request through a Middleware gave.
type pyResult struct {
	code    int
	lines   []string                // Set-Cookie lines
	cookies map[string]*http.Cookie // by name
}

// pyServe sends req through m to h and returns the response.
func pyServe(t testing.TB, m *sessions.Middleware, req *http.Request, h func(w http.ResponseWriter, r *http.Request)) pyResult {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(h)).ServeHTTP(w, req)
	res := pyResult{code: w.Code, lines: w.Result().Header.Values("Set-Cookie"), cookies: map[string]*http.Cookie{}}
	for _, line := range res.lines {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, "Set-Cookie %q", line)
		res.cookies[c.Name] = c
	}
	return res
}

// pyGet is a GET request carrying the given "name=value" cookies.
func pyGet(cookies ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	return req
}

// pyLogin is a handler that logs userID in, failing the test on an error.
func pyLogin(t testing.TB, userID string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessions.Login(r.Context(), userID))
	}
}

// jwtClaims decodes the claims of a JWT without verifying it.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "token %q", token)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var claims map[string]any
	require.NoError(t, dec.Decode(&claims))
	return claims
}

// --- Flask-Login -----------------------------------------------------------

// Flask-Login's _create_identifier(), computed by Flask-Login 0.6.2 for each
// request (Werkzeug's REMOTE_ADDR and headers).
func TestFlaskLoginWritesSessionProtectionIdentifier(t *testing.T) {
	tests := []struct {
		remote  string
		headers map[string]string
		want    string
	}{
		{"127.0.0.1:5000", map[string]string{"User-Agent": "curl/8.5.0"},
			"36646aa58fb1704b0c91f63d25a2ea3f646133864435a284f63032429e0e21acd30239c0875c0be3c470d75a3eccd0b19f9cba433db25df33ac7effd1fa6757e"},
		{"127.0.0.1:5000", nil, // no User-Agent: None
			"656d8f867997c2a40397700861e67a333b935d82576d85577e2da5109fbf90ba7d035f50908ba54969f8b60c156c4a762615d025942cb19ae24d329b88d388db"},
		{"192.0.2.7:1", map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2", "User-Agent": "Mozilla/5.0"},
			"4e26a2bed84f2d552228531283b1c8752aaa46974790b40a4a366a64e25a04d64cc8fcd3f5018cc8ace6c423c26bd8ed2d9e042c88422ee7b50e394bb9de02db"},
		{"[::1]:8080", map[string]string{"User-Agent": "it's"},
			"eca1874071d2260b861d85dd4c4b5d024437e9384fdd767a68b09346a633856a6116663707c30784e2564731c46300cb8cb5abde7898c38f49b0830b5e6b692a"},
		{"127.0.0.1:5000", map[string]string{"User-Agent": `say "it's" \ ok`},
			"33bc345b556d70d2864896a44a444369c1fd365875546994b007352176a3321974bd09940016de812db78ac60199e279cc1a651d07f0a7e39a16f7f733d510f0"},
		{"127.0.0.1:5000", map[string]string{"User-Agent": "caf\xe9\x7f\t"}, // latin-1 bytes, as Werkzeug reads them
			"e4e533728190039375b8ced3b8a9755ebfd42a8a6cb3e91191f6ee97fc5089a425afe6dab9a81fca709efa36ae88ad42c588e701ab5fb8a0c65ed0ebf368bd20"},
		{"127.0.0.1:5000", map[string]string{"X-Forwarded-For": "", "User-Agent": ""},
			"358c75efad91b96196234d646433801bfe4ffbc6ed6df7aa5d9380ad8df73ef659e62a15145a31d0299a23f0cae045bc4ef6fcca20887163948e1054ca8e4716"},
		{"127.0.0.1:5000", map[string]string{"X-Forwarded-For": " 203.0.113.9 ,x"},
			"52fde07d0cd297b8b9de112cb74a780441a0cfc8447ebe95d5d3632f3c7e6e1b3143e39e262a9c5c2ceb58152bf1fc7fe5842da81790998545f8c63c5777d43f"},
	}
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatFlask})
	for _, tt := range tests {
		req := pyGet()
		req.RemoteAddr = tt.remote
		req.Header.Del("User-Agent")
		for k, v := range tt.headers {
			req.Header[k] = []string{v}
		}
		res := pyServe(t, m, req, pyLogin(t, "7"))
		require.Contains(t, res.cookies, "session")
		values, err := m.Decode(t.Context(), res.cookies["session"].Value)
		require.NoError(t, err)
		assert.Equal(t, tt.want, values["_id"], "_id for %s %q", tt.remote, tt.headers)
	}
}

// Flask's session.permanent decides whether the cookie has an expiry, as in
// Flask, and Login keeps it.
func TestFlaskPermanentDecidesCookiePersistence(t *testing.T) {
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatFlask, MaxAge: time.Hour})
	set := func(k string, v any) func(http.ResponseWriter, *http.Request) {
		return func(_ http.ResponseWriter, r *http.Request) {
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			s.Set(k, v)
		}
	}
	browser := pyServe(t, m, pyGet(), set("n", 1)).cookies["session"]
	require.NotNil(t, browser)
	assert.Zero(t, browser.MaxAge, "a session that is not permanent gets no Max-Age")

	permanent := pyServe(t, m, pyGet(), set("_permanent", true)).cookies["session"]
	require.NotNil(t, permanent)
	assert.Equal(t, 3600, permanent.MaxAge, "a permanent session lasts MaxAge")

	// Login keeps session.permanent, and so the expiry.
	in := pyServe(t, m, pyGet("session="+permanent.Value), pyLogin(t, "7")).cookies["session"]
	require.NotNil(t, in)
	assert.Equal(t, 3600, in.MaxAge)
	values, err := m.Decode(t.Context(), in.Value)
	require.NoError(t, err)
	assert.Equal(t, true, values["_permanent"], "Login dropped _permanent")

	// In store mode the cookie is ours alone: MaxAge as usual.
	store := memstore.New()
	defer store.Close()
	sm := pyNew(t, sessions.SessionConfig{Format: sessions.FormatFlask, MaxAge: time.Hour, Store: store})
	assert.Equal(t, 3600, pyServe(t, sm, pyGet(), set("n", 1)).cookies["session"].MaxAge)
}

// Logout deletes the Python side's remember-me cookie when the request has
// one: Flask-Login's remember_token, microdot's _remember, or the configured
// name and path.
func TestLogoutDeletesRememberCookie(t *testing.T) {
	logout := func(_ http.ResponseWriter, r *http.Request) { require.NoError(t, sessions.Logout(r.Context())) }
	tests := []struct {
		cfg        sessions.SessionConfig
		name, path string
	}{
		{sessions.SessionConfig{Format: sessions.FormatFlask}, "remember_token", "/"},
		{sessions.SessionConfig{Format: sessions.FormatJWT}, "_remember", "/"},
		{sessions.SessionConfig{Format: sessions.FormatFlask, RememberCookieName: "keep", RememberCookiePath: "/app"}, "keep", "/app"},
		{sessions.SessionConfig{RememberCookieName: "rm"}, "rm", "/"},
	}
	for _, tt := range tests {
		m := pyNew(t, tt.cfg)
		res := pyServe(t, m, pyGet(tt.name+"=1|abc"), logout)
		c := res.cookies[tt.name]
		require.NotNil(t, c, "%v: no deletion of %s in %q", tt.cfg.Format, tt.name, res.lines)
		assert.Equal(t, -1, c.MaxAge, "%s is deleted", tt.name)
		assert.Equal(t, tt.path, c.Path)
		// Without the cookie in the request, nothing is sent for it.
		assert.NotContains(t, pyServe(t, m, pyGet(), logout).cookies, tt.name)
	}
	// The default format has no remember-me cookie.
	res := pyServe(t, pyNew(t, sessions.SessionConfig{}), pyGet("remember_token=1"), logout)
	assert.NotContains(t, res.cookies, "remember_token")
}

func TestRememberCookieConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  sessions.SessionConfig
		want string
	}{
		{sessions.SessionConfig{RememberCookieName: "bad name"}, "RememberCookieName"},
		{sessions.SessionConfig{RememberCookieName: "session"}, "RememberCookieName"},
		{sessions.SessionConfig{Format: sessions.FormatFlask, RememberCookiePath: "no-slash"}, "RememberCookiePath"},
		{sessions.SessionConfig{Format: sessions.FormatFlask, RememberCookiePath: "/a;b"}, "RememberCookiePath"},
	} {
		tt.cfg.SecretKey = pyKey
		_, err := sessions.New(tt.cfg)
		require.ErrorIs(t, err, sessions.ErrInvalidConfig, "%+v", tt.cfg)
		assert.ErrorContains(t, err, tt.want)
	}
}

// --- OnLogin ---------------------------------------------------------------

func TestOnLoginAddsToTheNewSession(t *testing.T) {
	var gotUser string
	var sawCart, sawOld any
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, CookieName: "sessionid",
		OnLogin: func(ctx context.Context, s *sessions.Session, userID string) error {
			gotUser = userID
			assert.Equal(t, userID, s.UserID(), "OnLogin's session has the user")
			sawCart, _ = s.Get("cart")
			sawOld, _ = s.Get("old")
			s.Set("_auth_user_backend", "django.contrib.auth.backends.ModelBackend")
			s.Set("_auth_user_hash", sessions.DjangoAuthHash(pyKey, "pbkdf2_sha256$x"))
			s.Delete("cart")
			s.AddFlash("info", "welcome")
			return nil
		}})
	anon := pyServe(t, m, pyGet(), func(_ http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("cart", "apple")
		s.Set("old", "x")
	}).cookies["sessionid"]
	require.NotNil(t, anon)
	in := pyServe(t, m, pyGet("sessionid="+anon.Value), func(_ http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessions.LoginKeep(r.Context(), "42", "cart"))
	}).cookies["sessionid"]
	require.NotNil(t, in)
	assert.Equal(t, "42", gotUser)
	assert.Equal(t, "apple", sawCart, "OnLogin sees the kept keys")
	assert.Nil(t, sawOld, "OnLogin sees the new session, not the old one")
	values, err := m.Decode(t.Context(), in.Value)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash":    sessions.DjangoAuthHash(pyKey, "pbkdf2_sha256$x"),
	}, values)
	var flashes []sessions.Flash
	var uid string
	pyServe(t, m, pyGet("sessionid="+in.Value), func(_ http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		flashes, uid = s.Flashes(), s.UserID()
	})
	assert.Equal(t, []sessions.Flash{{Category: "info", Message: "welcome"}}, flashes)
	assert.Equal(t, "42", uid)
}

// An OnLogin error fails the Login and changes nothing, in either mode: the
// old session is still the request's and the store record still exists.
func TestOnLoginErrorChangesNothing(t *testing.T) {
	boom := errors.New("no password hash")
	store := memstore.New()
	defer store.Close()
	for _, st := range []sessions.Store{nil, store} {
		m := pyNew(t, sessions.SessionConfig{Store: st,
			OnLogin: func(context.Context, *sessions.Session, string) error { return boom }})
		old := pyServe(t, m, pyGet(), func(_ http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			s.Set("cart", "apple")
		}).cookies["session"]
		require.NotNil(t, old)
		res := pyServe(t, m, pyGet("session="+old.Value), func(w http.ResponseWriter, r *http.Request) {
			err := sessions.Login(r.Context(), "42")
			require.ErrorIs(t, err, boom)
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			v, _ := s.Get("cart")
			assert.Equal(t, "apple", v, "the old session is untouched")
			assert.Empty(t, s.UserID())
			w.WriteHeader(http.StatusUnauthorized)
		})
		assert.Equal(t, http.StatusUnauthorized, res.code, "the handler answers; no error reply")
		assert.NotContains(t, res.cookies, "session", "no new cookie")
		values, err := m.Decode(t.Context(), old.Value)
		if st == nil {
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"cart": "apple"}, values)
		}
		again := pyServe(t, m, pyGet("session="+old.Value), func(_ http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			v, _ := s.Get("cart")
			assert.Equal(t, "apple", v, "store %v: the old session still loads", st != nil)
		})
		assert.Equal(t, http.StatusOK, again.code)
	}
}

// --- Django -----------------------------------------------------------------

const djangoKey = "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz"

// DjangoAuthHash is user.get_session_auth_hash() as Django 3.2 computes it.
func TestDjangoAuthHash(t *testing.T) {
	assert.Equal(t, "39078593607fc64b28e334c35d131e09c82930912935a4143fef511dca089c4d",
		sessions.DjangoAuthHash(djangoKey, "pbkdf2_sha256$260000$salt$hash="))
}

// Cookies django.core.signing.dumps(compress=True) made for the
// signed_cookies backend at Unix time 1700000000.
func TestDjangoReadsSignedCookies(t *testing.T) {
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, SecretKey: djangoKey, CookieName: "sessionid"})
	login := ".eJyrVopPLC3JiC8tTi2Kz0xRslIyVNJBFktKTM5OzQNJpGQl5qXn6yXn55UUZSbpgZToQWWL9XzzU1JznKBqUQzISCzOAOpOTEoGiucl5qYCOVH5MaUGBqlJSrUAg00sww:1r31eq:nn1H3mFdeUPHMAn1Ladx4UPLmJSOh-BgGXo2dDG04Fs"
	var uid string
	var created time.Time
	var values map[string]any
	pyServe(t, m, pyGet("sessionid="+login), func(_ http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		uid, created = s.UserID(), s.Created()
		values = map[string]any{}
		for _, k := range s.Keys() {
			values[k], _ = s.Get(k)
		}
	})
	assert.Equal(t, "1", uid, "UserID reads _auth_user_id")
	assert.Equal(t, pyT0, created, "the signed time")
	assert.Equal(t, map[string]any{"_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash": "abc", "name": "Zoë"}, values)

	got, err := m.Decode(t.Context(), ".eJyrVsrLL0ktVrJSyhsFRAMlHaXkxKISJatopcSCgpxUpdhaALyEii4:1r31eq:Cl5PAo4C64gst9lpYc8SXC6Clg2yt90sruwdkWFYlFI")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"notes": strings.Repeat("n", 300), "cart": []any{"apple"}}, got)

	for _, bad := range []struct {
		value string
		want  error
	}{
		{strings.Replace(login, "1r31eq", "1r31er", 1), sessions.ErrBadSignature},
		{login[:len(login)-1] + "A", sessions.ErrBadSignature},
		{"no-separator", sessions.ErrMalformed},
		{"abc:" + hmacB64(sha256.New, digest(sha256.New, "django.contrib.sessions.backends.signed_cookies", "signer", djangoKey), "abc"), sessions.ErrMalformed}, // signed, no timestamp
	} {
		_, err := m.Decode(t.Context(), bad.value)
		assert.ErrorIs(t, err, bad.want, "Decode(%q)", bad.value)
	}
	// A wrong key, and the key as a fallback (re-signed with the new key).
	_, err = pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, SecretKey: pyKey}).Decode(t.Context(), login)
	assert.ErrorIs(t, err, sessions.ErrBadSignature)
	rotated := pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, SecretKey: pyKey, FallbackKeys: []string{djangoKey}, CookieName: "sessionid"})
	res := pyServe(t, rotated, pyGet("sessionid="+login), func(_ http.ResponseWriter, r *http.Request) {
		_, err := sessions.GetSession(r.Context())
		require.NoError(t, err)
	})
	require.Contains(t, res.cookies, "sessionid", "a fallback-key cookie is re-signed")
	_, err = pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, SecretKey: pyKey}).Decode(t.Context(), res.cookies["sessionid"].Value)
	assert.NoError(t, err)
}

// What Go writes for Django is ASCII JSON (Django decodes it as latin-1),
// signed over the payload and base62 time, and the login is _auth_user_id.
func TestDjangoWritesASCIIAndLogin(t *testing.T) {
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatDjango, CookieName: "sessionid"})
	res := pyServe(t, m, pyGet(), func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessions.Login(r.Context(), "5"))
		s, _ := sessions.GetSession(r.Context())
		s.Set("name", "Zoë 😀")
		s.Set("_auth_user_id", "6") // reserved: ignored
	})
	c := res.cookies["sessionid"]
	require.NotNil(t, c)
	payload64, rest, ok := strings.Cut(c.Value, ":")
	require.True(t, ok, "cookie %q", c.Value)
	assert.True(t, strings.HasPrefix(rest, "1r31eq:"), "base62 timestamp of %d in %q", pyT0.Unix(), c.Value)
	require.False(t, strings.HasPrefix(payload64, "."), "a short payload is not compressed")
	raw, err := base64.RawURLEncoding.DecodeString(payload64)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"Zo\u00eb \ud83d\ude00","_ctxsession":{"c":1700000000},"_auth_user_id":"5"}`, string(raw))
}

// --- microdot (FormatJWT) ----------------------------------------------------

// jwtToken is the HS256 JWT of header and claims under key, as PyJWT
// signs it.
func jwtToken(t testing.TB, key, header, claims string) string {
	t.Helper()
	return jwtSign(key, b64url(header)+"."+b64url(claims))
}

// jwtSign appends the HS256 signature of signed (header.claims).
func jwtSign(key, signed string) string {
	return signed + "." + hmacB64(sha256.New, []byte(key), signed)
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hmacB64 is base64url(HMAC(key, msg)), unpadded.
func hmacB64(h func() hash.Hash, key []byte, msg string) string {
	mac := hmac.New(h, key)
	mac.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func digest(h func() hash.Hash, parts ...string) []byte {
	d := h()
	for _, p := range parts {
		d.Write([]byte(p))
	}
	return d.Sum(nil)
}

// pyMint signs payload (JSON text, used as it is) at now as the Python
// side of format f does with key: an independent implementation of each
// wire format, so that payloads encoding/json cannot write can be minted.
func pyMint(t testing.TB, f sessions.Format, key, payload string, now time.Time) string {
	t.Helper()
	ts := b64url(string(binary.BigEndian.AppendUint32(nil, uint32(now.Unix()))))
	switch f {
	case sessions.FormatFlask: // URLSafeTimedSerializer, salt cookie-session, HMAC derivation, SHA-1
		mac := hmac.New(sha1.New, []byte(key))
		mac.Write([]byte("cookie-session"))
		signed := b64url(payload) + "." + ts
		return signed + "." + hmacB64(sha1.New, mac.Sum(nil), signed)
	case sessions.FormatStarlette: // TimestampSigner defaults
		signed := base64.StdEncoding.EncodeToString([]byte(payload)) + "." + ts
		return signed + "." + hmacB64(sha1.New, digest(sha1.New, "itsdangerous.Signer", "signer", key), signed)
	case sessions.FormatDjango: // django.core.signing, signed_cookies salt
		signed := b64url(payload) + ":" + base62(now.Unix())
		return signed + ":" + hmacB64(sha256.New, digest(sha256.New, "django.contrib.sessions.backends.signed_cookies", "signer", key), signed)
	case sessions.FormatJWT:
		return jwtToken(t, key, `{"alg":"HS256","typ":"JWT"}`, payload)
	}
	t.Fatalf("pyMint: format %v", f)
	return ""
}

func base62(n int64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b []byte
	for ; n > 0; n /= 62 {
		b = append([]byte{digits[n%62]}, b...)
	}
	return string(b)
}

// A forged token costs an HMAC per key and nothing else: no allocation, as
// for a forged itsdangerous cookie (the claims are not parsed before the
// MAC).
func TestJWTForgedTokenCostsNoAllocations(t *testing.T) {
	var claims strings.Builder
	claims.WriteString(`{"a":[`)
	for i := range 300 {
		if i > 0 {
			claims.WriteByte(',')
		}
		claims.WriteString(`{"k":"v"}`)
	}
	claims.WriteString(`]}`)
	forged := jwtToken(t, "another-key-that-is-long-enough-0123456789", `{"alg":"HS256","typ":"JWT"}`, claims.String())
	jm := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT, FallbackKeys: []string{sessions.TestOtherKey}})
	_, err := jm.Decode(t.Context(), forged)
	require.ErrorIs(t, err, sessions.ErrBadSignature)
	ctx := context.Background()
	jwtAllocs := testing.AllocsPerRun(200, func() { jm.Decode(ctx, forged) })

	im := pyNew(t, sessions.SessionConfig{FallbackKeys: []string{sessions.TestOtherKey}})
	good, err := im.Encode(map[string]any{"a": claims.String()})
	require.NoError(t, err)
	forgedIts := good[:len(good)-5] + "AAAAA"
	_, err = im.Decode(ctx, forgedIts)
	require.ErrorIs(t, err, sessions.ErrBadSignature)
	itsAllocs := testing.AllocsPerRun(200, func() { im.Decode(ctx, forgedIts) })
	// Both are 0 (BenchmarkDecodeForged); under the race detector
	// sync.Pool drops some of what it is given, for both alike. Decoding
	// the 300 claims would cost hundreds.
	assert.Less(t, jwtAllocs, 20.0, "allocations for a forged JWT")
	assert.LessOrEqual(t, jwtAllocs, itsAllocs+1, "a forged JWT costs no more than a forged itsdangerous cookie")
}

// The header must be HS256's and nothing else, checked after the MAC: no
// crit, no member twice, no other member or value.
func TestJWTHeaderRules(t *testing.T) {
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT, Now: time.Now})
	claims := `{"k":"v"}`
	for _, tt := range []struct {
		header string
		ok     bool
	}{
		{`{"alg":"HS256","typ":"JWT"}`, true},
		{`{"typ":"JWT","alg":"HS256"}`, true},
		{` { "alg" : "HS256" , "typ" : "JWT" } `, true},
		{`{"alg":"HS256","typ":"JWT","crit":["exp"]}`, false},
		{`{"alg":"HS256","typ":"JWT","crit":[]}`, false},
		{`{"alg":"HS256","alg":"HS256","typ":"JWT"}`, false},
		{`{"alg":"HS256","typ":"JWT","typ":"JWT"}`, false},
		{`{"alg":"HS512","typ":"JWT"}`, false},
		{`{"alg":"none","typ":"JWT"}`, false},
		{`{"alg":"HS256"}`, false},
		{`{"alg":"HS256","typ":"jwt"}`, false},
		{`{"alg":"HS256","typ":"JWT","kid":"1"}`, false},
		{`{"alg":"HS256","typ":"JWT"`, false},
		{`[]`, false},
	} {
		_, err := m.Decode(t.Context(), jwtToken(t, pyKey, tt.header, claims))
		if tt.ok {
			assert.NoError(t, err, "header %s", tt.header)
		} else {
			assert.ErrorIs(t, err, sessions.ErrMalformed, "header %s", tt.header)
		}
		if strings.Contains(tt.header, "crit") {
			assert.ErrorContains(t, err, `"crit"`, "a crit header is refused as such")
		}
	}
}

// The claims PyJWT checks are checked as PyJWT checks them.
func TestJWTClaimsAsPyJWTChecksThem(t *testing.T) {
	now := pyT0
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT, ClockSkew: -1})
	n := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tt := range []struct {
		claims string
		want   error // nil: accepted
	}{
		{`{"exp":` + n(time.Second) + `}`, nil},
		{`{"exp":` + n(0) + `}`, sessions.ErrExpired}, // PyJWT: exp <= now is expired
		{`{"exp":` + n(-time.Second) + `}`, sessions.ErrExpired},
		{`{"nbf":` + n(time.Second) + `}`, sessions.ErrFuture},
		{`{"nbf":` + n(0) + `}`, nil},
		{`{"iat":` + n(time.Second) + `}`, sessions.ErrFuture},
		{`{"iat":` + n(0) + `}`, nil},
		{`{"iat":-1}`, sessions.ErrExpired},                // before 1970: expired, not ageless
		{`{"iat":-62135596800}`, sessions.ErrExpired},      // year 1, the zero time.Time
		{`{"iat":-1e300}`, sessions.ErrExpired},            // far before 1970
		{`{"exp":1e300}`, nil},                             // far future: not expired
		{`{"iat":1699999999.5,"exp":1700000000.5}`, nil},   // PyJWT accepts floats
		{`{"exp":"tomorrow"}`, sessions.ErrMalformed},      // PyJWT: DecodeError
		{`{"exp":NaN}`, sessions.ErrMalformed},             // int(nan) fails in PyJWT
		{`{"iat":Infinity}`, sessions.ErrMalformed},        // so does int(inf)
		{`{"aud":"x"}`, sessions.ErrMalformed},             // PyJWT: InvalidAudienceError
		{`{"k":1,"k":2}`, sessions.ErrMalformed},           // strict JSON
		{`{"sub":1,"n":123456789012345678901234567}`, nil}, // the rest is the session's
	} {
		_, err := m.Decode(t.Context(), jwtToken(t, pyKey, `{"alg":"HS256","typ":"JWT"}`, tt.claims))
		if tt.want == nil {
			assert.NoError(t, err, "claims %s", tt.claims)
		} else {
			assert.ErrorIs(t, err, tt.want, "claims %s", tt.claims)
		}
	}
}

// A session key PyJWT would validate is an error naming the key when the
// session is saved: microdot would read the session as empty.
func TestJWTSessionKeyThatPyJWTValidatesIsAnError(t *testing.T) {
	for _, key := range []string{"exp", "nbf", "iat", "aud"} {
		var got error
		m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT,
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				got = err
				w.WriteHeader(http.StatusInternalServerError)
			}})
		res := pyServe(t, m, pyGet(), func(_ http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			s.Set(key, 1)
		})
		assert.Equal(t, http.StatusInternalServerError, res.code)
		assert.NotContains(t, res.cookies, "session")
		require.Error(t, got, key)
		assert.Contains(t, got.Error(), `"`+key+`"`, "the error names the key")
		_, err := m.Encode(map[string]any{key: 1})
		assert.ErrorContains(t, err, `"`+key+`"`)
	}
}

// Logins are microdot.login's: _user_id (a string, or microdot's int) and
// _fresh, both ways.
func TestJWTMicrodotLogin(t *testing.T) {
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT, Now: time.Now})
	for claims, want := range map[string]string{
		`{"_user_id":"7","_fresh":true}`: "7",
		`{"_user_id":8,"_fresh":false}`:  "8",
		`{"_user_id":null}`:              "",
		`{"k":"v"}`:                      "",
	} {
		var uid string
		pyServe(t, m, pyGet("session="+jwtToken(t, pyKey, `{"alg":"HS256","typ":"JWT"}`, claims)), func(_ http.ResponseWriter, r *http.Request) {
			uid, _ = sessions.UserID(r.Context())
		})
		assert.Equal(t, want, uid, "claims %s", claims)
	}
	res := pyServe(t, m, pyGet(), pyLogin(t, "u-1"))
	claims := jwtClaims(t, res.cookies["session"].Value)
	assert.Equal(t, "u-1", claims["_user_id"])
	assert.Equal(t, true, claims["_fresh"])
	assert.NotContains(t, claims[sessions.ReservedKey], "uid")
	assert.Equal(t, "HS256", jwtHeaderOf(t, res.cookies["session"].Value)["alg"])
}

func jwtHeaderOf(t testing.TB, token string) map[string]any {
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

// FuzzJWTHeader: whatever header a correctly signed token carries, Decode
// does not panic, and it accepts only a header that is exactly
// {"alg":"HS256","typ":"JWT"} as JSON: no member twice, no crit.
func FuzzJWTHeader(f *testing.F) {
	for _, h := range []string{
		`{"alg":"HS256","typ":"JWT"}`, `{"typ":"JWT","alg":"HS256"}`, `{"alg":"HS256","typ":"JWT","crit":["b64"]}`,
		`{"alg":"HS256","alg":"none","typ":"JWT"}`, `{"alg":"RS256","typ":"JWT"}`, `{}`, `{"alg":"HS256","typ":"JWT"}x`,
		`{"alg":"HS\u0032\u00356","typ":"JWT"}`,
	} {
		f.Add([]byte(h))
	}
	m, err := sessions.New(sessions.SessionConfig{SecretKey: pyKey, Format: sessions.FormatJWT})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		token := jwtSign(pyKey, base64.RawURLEncoding.EncodeToString(header)+"."+base64.RawURLEncoding.EncodeToString([]byte(`{"k":"v"}`)))
		_, err := m.Decode(context.Background(), token)
		if err != nil {
			if !errors.Is(err, sessions.ErrInvalidCookie) {
				t.Fatalf("header %q: error %v does not match ErrInvalidCookie", header, err)
			}
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(header)))
		var tokens []string
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if s, ok := tok.(string); ok {
				tokens = append(tokens, s)
			}
		}
		var h map[string]any
		if json.Unmarshal(header, &h) != nil || len(h) != 2 || h["alg"] != "HS256" || h["typ"] != "JWT" || len(tokens) != 4 {
			t.Fatalf("accepted header %q", header)
		}
	})
}

// --- values Python's json writes ---------------------------------------------

// A Flask cookie holding every value Python's json writes that encoding/json
// refuses or changes is read, and written back byte for byte after a Go
// handler changed another key; the login in it survives.
func TestPythonValuesSurviveAGoWrite(t *testing.T) {
	deep := strings.Repeat("[", 1000) + strings.Repeat("]", 1000)
	values := `"big":123456789012345678901234567890123,"deep":` + deep +
		`,"inf":Infinity,"nan":NaN,"ninf":-Infinity,"s":"\ud800","t":"x\udfffy"`
	for _, f := range []sessions.Format{sessions.FormatFlask, sessions.FormatStarlette, sessions.FormatDjango, sessions.FormatJWT} {
		m := pyNew(t, sessions.SessionConfig{Format: f})
		cookie := pyMint(t, f, pyKey, `{"_fresh":true,"_user_id":"7",`+values+`}`, pyT0)
		var uid string
		var nan any
		res := pyServe(t, m, pyGet("session="+cookie), func(_ http.ResponseWriter, r *http.Request) {
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			uid = s.UserID()
			nan, _ = s.Get("nan")
			s.Set("go", 1)
		})
		c := res.cookies["session"]
		require.NotNil(t, c, "no cookie: %q", res.lines)
		back, err := m.Decode(t.Context(), c.Value)
		require.NoError(t, err)
		enc, err := json.Marshal(back["big"])
		require.NoError(t, err)
		assert.Equal(t, "123456789012345678901234567890123", string(enc))
		assert.Equal(t, json.Number("NaN"), nan)
		fl, err := nan.(json.Number).Float64()
		require.NoError(t, err)
		assert.True(t, math.IsNaN(fl))
		assert.Equal(t, json.Number("-Infinity"), back["ninf"])
		assert.Equal(t, "\xed\xa0\x80", back["s"], "a lone surrogate is kept")
		if f == sessions.FormatFlask {
			assert.Equal(t, "7", uid)
			payload := pyPayload(t, c.Value)
			assert.Contains(t, payload, `"go":1,"inf":Infinity,"nan":NaN,"ninf":-Infinity,"s":"\ud800","t":"x\udfffy"`)
			assert.Contains(t, payload, `"deep":`+deep+`,"go":1`)
		}
	}
}

// pyPayload is the JSON of a Flask (itsdangerous) cookie, unverified.
func pyPayload(t testing.TB, value string) string {
	t.Helper()
	compressed := strings.HasPrefix(value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimPrefix(value, "."), ".")[0])
	require.NoError(t, err)
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		raw, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return string(raw)
}

// --- size ---------------------------------------------------------------------

// Browsers keep a cookie whose name and value have 4096 bytes; the
// middleware writes up to that, and reads up to MaxCookieReadSize, which
// clients other than browsers send.
func TestCookieSizeCountedAsBrowsersDo(t *testing.T) {
	// A JWT is not compressed: find a value whose cookie has exactly 4096
	// bytes, name included.
	m := pyNew(t, sessions.SessionConfig{Format: sessions.FormatJWT})
	var key string
	var n int
	var v string
search:
	for _, key = range []string{"p", "pp", "ppp"} {
		for n = 2900; n < 3100; n++ {
			var err error
			if v, err = m.Encode(map[string]any{key: strings.Repeat("x", n)}); err != nil {
				break
			}
			if len("session")+len(v) == sessions.MaxCookieSize {
				break search
			}
		}
	}
	require.Equal(t, sessions.MaxCookieSize, len("session")+len(v), "no value gives a 4096-byte cookie")
	_, err := m.Decode(t.Context(), v)
	require.NoError(t, err, "a 4096-byte cookie is read")
	_, err = m.Encode(map[string]any{key: strings.Repeat("x", n+1)})
	require.ErrorIs(t, err, sessions.ErrCookieTooLarge, "a larger one is not written")
	m = pyNew(t, sessions.SessionConfig{Format: sessions.FormatStarlette})

	// What a peer writes for clients that are not browsers is read up to
	// MaxCookieReadSize.
	big := pyMint(t, sessions.FormatStarlette, pyKey, `{"p":"`+strings.Repeat("y", 4500)+`"}`, pyT0)
	require.Greater(t, len(big), sessions.MaxCookieSize)
	_, err = m.Decode(t.Context(), big)
	require.NoError(t, err, "a %d-byte Starlette cookie is read", len(big))
	huge := pyMint(t, sessions.FormatStarlette, pyKey, `{"p":"`+strings.Repeat("y", 6200)+`"}`, pyT0)
	require.Greater(t, len("session")+len(huge), sessions.MaxCookieReadSize)
	_, err = m.Decode(t.Context(), huge)
	require.ErrorIs(t, err, sessions.ErrMalformed, "over MaxCookieReadSize")
}

// BenchmarkDecodeForged measures what a forged cookie costs: a JWT with
// 300 claims and a wrong signature, and an itsdangerous cookie of the same
// payload.
func BenchmarkDecodeForged(b *testing.B) {
	claims := `{"a":[` + strings.TrimSuffix(strings.Repeat(`{"k":"v"},`, 300), ",") + `]}`
	for _, tc := range []struct {
		name   string
		format sessions.Format
		value  string
	}{
		{"jwt", sessions.FormatJWT, jwtToken(b, "another-key-that-is-long-enough-0123456789", `{"alg":"HS256","typ":"JWT"}`, claims)},
		{"itsdangerous", sessions.FormatItsdangerous, b64url(claims) + "." + b64url("\x65\x4d\x2b\x00") + "." + strings.Repeat("A", 43)},
	} {
		m := pyNew(b, sessions.SessionConfig{Format: tc.format})
		ctx := context.Background()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Decode(ctx, tc.value); !errors.Is(err, sessions.ErrBadSignature) {
					b.Fatal(err)
				}
			}
		})
	}
}
