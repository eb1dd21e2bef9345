package main

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testKey  = "0123456789abcdef0123456789abcdef-test-key"
	otherKey = "fedcba9876543210fedcba9876543210-other-key"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// ctl runs the command at time now and returns status, stdout and stderr.
func ctl(t *testing.T, now time.Time, envKey string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, env{
		stdout: &out,
		stderr: &errb,
		now:    func() time.Time { return now },
		getenv: func(k string) string {
			if k == "SESSION_SECRET_KEY" {
				return envKey
			}
			return ""
		},
	})
	return code, out.String(), errb.String()
}

// loginCookie returns the cookie value the middleware writes after Login.
func loginCookie(t *testing.T, user string, now time.Time) string {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{SecretKey: testKey, Now: func() time.Time { return now }})
	require.NoError(t, err)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, sessions.Login(r.Context(), user))
		s, err := sessions.GetSession(r.Context())
		if assert.NoError(t, err) {
			s.Set("visits", 7)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == "session" {
			return c.Value
		}
	}
	require.Fail(t, "no session cookie written")
	return ""
}

func signed(t *testing.T, now time.Time, key, json string, extra ...string) string {
	t.Helper()
	code, out, errs := ctl(t, now, "", append([]string{"sign", "--key", key}, append(extra, json)...)...)
	require.Equal(t, 0, code, "sign: exit code; stderr %q", errs)
	return strings.TrimSpace(out)
}

// noise returns n characters that do not compress.
func noise(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(26)) + 'a'
	}
	return string(b)
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// ts is itsdangerous's timestamp encoding.
func ts(tm time.Time) string {
	n := tm.Unix()
	var b []byte
	for n > 0 {
		b = append([]byte{byte(n)}, b...)
		n >>= 8
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func zlibbed(p []byte) string {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(p)
	zw.Close()
	return "." + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestRun(t *testing.T) {
	login := loginCookie(t, "alice", t0)
	plain := signed(t, t0, testKey, `{"cart":[1,2],"n":12345678901234567890}`)
	named := signed(t, t0, testKey, `{"a":"b"}`, "--name", "sid")
	big := signed(t, t0, testKey, `{"text":"`+strings.Repeat("abc", 200)+`"}`)
	sig27 := strings.Repeat("A", 27)
	sig43 := strings.Repeat("A", 43)
	flask := b64url(`{"_user_id":"7","_fresh":true}`) + "." + ts(t0) + "." + sig27
	ambiguous := b64url(`{"lang":"d"}`) + "." + ts(t0) + "." + sig27
	unpadded := b64url(`{"lang":"de"}`) + "." + ts(t0) + "." + sig27
	flaskZ := zlibbed([]byte(`{"_user_id":"8","x":"`+strings.Repeat("y", 100)+`"}`)) + "." + ts(t0) + "." + sig27
	starlette := base64.StdEncoding.EncodeToString([]byte(`{"user":"bob"}`)) + "." + ts(t0) + "." + sig27
	jwt := b64url(`{"alg":"HS256","typ":"JWT"}`) + "." + b64url(`{"sub":"carol","iat":1795341600,"exp":1795345200}`) + "." + sig43
	jwtNone := b64url(`{"alg":"none"}`) + "." + b64url(`{"sub":"mallory"}`) + "."
	encrypted := base64.URLEncoding.EncodeToString([]byte("1795341600|c2VjcmV0|mac-bytes"))
	storeID := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfe, 0x01}, 16)) + "." + ts(t0) + "." + sig43
	dotKey := "a.b.c." + testKey
	dotted := signed(t, t0, dotKey, `{"x":1}`)
	dashID := "-" + storeID[1:]
	bomb := zlibbed(bytes.Repeat([]byte(" "), 70<<10)) + "." + ts(t0) + "." + sig43
	later := t0.Add(sessions.DefaultMaxAge + time.Hour)

	tests := []struct {
		name    string
		now     time.Time
		envKey  string
		args    []string
		code    int
		stdout  []string // substrings of stdout
		stderr  string   // substring of stderr (the whole of it is one line)
		without []string // must not appear in stdout
	}{
		{name: "help", args: []string{"help"}, stdout: []string{"sessionctl decode"}},
		{name: "no command", args: nil, code: 2, stderr: "no command"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "keygen extra arg", args: []string{"keygen", "x"}, code: 2, stderr: "no arguments"},

		{name: "decode login cookie", args: []string{"decode", login}, stdout: []string{
			"format:   itsdangerous (detected", "verified: NO", "NOT checked", "issued:   2026-11-22T10:00:00Z (age 5m0s)",
			"user:     alice", `"visits": 7`}},
		{name: "decode NAME=VALUE", args: []string{"decode", "session=" + login}, stdout: []string{"user:     alice"}},
		{name: "decode quoted", args: []string{"decode", `"` + login + `"`}, stdout: []string{"user:     alice"}},
		{name: "decode keeps big numbers", args: []string{"decode", plain}, stdout: []string{"12345678901234567890"}},
		{name: "decode compressed", args: []string{"decode", big}, stdout: []string{strings.Repeat("abc", 200)}},
		{name: "decode future", now: t0.Add(-time.Hour), args: []string{"decode", plain}, stdout: []string{"1h0m0s in the future"}},
		{name: "decode flask", args: []string{"decode", flask}, stdout: []string{"format:   flask (detected", "user:     7"}},
		{name: "decode flask by its keys", args: []string{"decode", flask}, stdout: []string{"(detected: SHA-1 signature, Flask's keys)"}},
		{name: "decode flask or starlette", args: []string{"decode", ambiguous}, stdout: []string{"format:   flask (detected: SHA-1 signature; the payload would also read as Starlette's)"}},
		{name: "decode flask, unpadded", args: []string{"decode", unpadded}, stdout: []string{"format:   flask (detected: SHA-1 signature, base64url payload)"}},
		{name: "decode flask zlib", args: []string{"decode", flaskZ}, stdout: []string{"format:   flask (detected", "user:     8"}},
		{name: "decode starlette", args: []string{"decode", starlette}, stdout: []string{"format:   starlette (detected", `"user": "bob"`}},
		{name: "decode starlette given", args: []string{"decode", "--format", "starlette", starlette}, stdout: []string{"format:   starlette (given)"}},
		{name: "decode jwt", args: []string{"decode", jwt}, stdout: []string{
			"format:   jwt (detected", "verified: NO", "sub:      carol (a JWT claim; the library reads the session's user from _user_id, not sub)", "expires:  2026-11-22T11:00:00Z", "alg HS256"},
			without: []string{"user:     "}},
		{name: "decode jwt alg none still says unverified", args: []string{"decode", jwtNone}, stdout: []string{"verified: NO", "alg none", "mallory"}},
		{name: "decode encrypted", args: []string{"decode", encrypted}, stdout: []string{
			"format:   encrypted (detected", "issued:   2026-11-22T10:00:00Z", "only be read with the key"}, without: []string{"payload:"}},
		{name: "decode store id", args: []string{"decode", storeID}, stdout: []string{"server-side session id"}, without: []string{"payload:"}},
		{name: "decode store id starting with -", args: []string{"decode", dashID}, stdout: []string{"server-side session id"}},
		{name: "verify -- then cookie", args: []string{"verify", "--key", testKey, "--", login}, stdout: []string{"verified: YES"}},
		{name: "command help", args: []string{"verify", "-h"}, code: 2, stderr: "usage: sessionctl verify --key K"},
		{name: "flag without value", args: []string{"verify", login, "--key"}, code: 2, stderr: "flag needs an argument: -key"},
		{name: "flag=value", args: []string{"verify", "--key=" + testKey, login}, stdout: []string{"verified: YES"}},
		{name: "key with dots", args: []string{"verify", "--key=" + dotKey, dotted}, stdout: []string{"verified: YES"}},
		{name: "key with dots, space", args: []string{"verify", "-key", dotKey, dotted}, stdout: []string{"verified: YES"}},

		{name: "decode empty", args: []string{"decode", ""}, code: 1, stderr: "empty cookie value"},
		{name: "decode garbage", args: []string{"decode", "hello"}, code: 1, stderr: "not a session cookie"},
		{name: "decode bad timestamp", args: []string{"decode", b64url(`{}`) + ".!!." + sig43}, code: 1, stderr: "bad timestamp"},
		{name: "decode zero-padded timestamp", args: []string{"decode", b64url(`{}`) + ".AAE." + sig43}, code: 1, stderr: "bad timestamp"},
		{name: "decode no timestamp", args: []string{"decode", "abc." + sig43}, code: 1, stderr: "no timestamp"},
		{name: "decode odd signature", args: []string{"decode", b64url(`{}`) + "." + ts(t0) + ".abc"}, code: 1, stderr: "3-character signature"},
		{name: "decode bad base64", args: []string{"decode", "e$J9." + ts(t0) + "." + sig43}, code: 1, stderr: "not base64url"},
		{name: "decode not an object", args: []string{"decode", b64url(`[1,2]`) + "." + ts(t0) + "." + sig43}, code: 1, stderr: "not a JSON object"},
		{name: "decode bad zlib", args: []string{"decode", ".AAAA." + ts(t0) + "." + sig43}, code: 1, stderr: "not valid zlib"},
		{name: "decode zip bomb", args: []string{"decode", bomb}, code: 1, stderr: "more than 65536 bytes"},
		{name: "decode jwt bad claims", args: []string{"decode", "--format", "jwt", b64url(`{"alg":"HS256"}`) + ".!!." + sig43}, code: 1, stderr: "claims are not base64url"},
		{name: "decode jwt bad exp", args: []string{"decode", "--format", "jwt", b64url(`{"alg":"HS256"}`) + "." + b64url(`{"exp":"soon"}`) + "." + sig43}, code: 1, stderr: `"exp"`},
		{name: "decode jwt two segments", args: []string{"decode", "--format", "jwt", "a.b"}, code: 1, stderr: "3 segments"},
		{name: "decode encrypted bad frame", args: []string{"decode", "--format", "encrypted", base64.URLEncoding.EncodeToString([]byte("x|y|z"))}, code: 1, stderr: "date is not a number"},
		{name: "decode wrong format given", args: []string{"decode", "--format", "encrypted", login}, code: 1, stderr: "not base64url (securecookie)"},
		{name: "decode unknown format", args: []string{"decode", "--format", "pickle", login}, code: 2, stderr: `unknown format "pickle"`},
		{name: "decode two cookies", args: []string{"decode", login, login}, code: 2, stderr: "one COOKIE argument, got 2"},
		{name: "decode no cookie", args: []string{"decode"}, code: 2, stderr: "one COOKIE argument, got 0"},
		{name: "decode bad flag", args: []string{"decode", "--key", "x", login}, code: 2, stderr: "flag provided but not defined"},

		{name: "verify ok", args: []string{"verify", "--key", testKey, login}, stdout: []string{
			"verified: YES", "user:     alice (from _ctxsession.uid)", `"visits": 7`}, without: []string{`"_ctxsession"`}},
		{name: "verify flags after cookie", args: []string{"verify", login, "--key", testKey}, stdout: []string{"verified: YES"}},
		{name: "verify key from env", envKey: testKey, args: []string{"verify", login}, stdout: []string{"verified: YES"}},
		{name: "verify fallback", args: []string{"verify", "--key", otherKey, "--fallback", testKey, login}, stdout: []string{"verified: YES"}},
		{name: "verify wrong key", args: []string{"verify", "--key", otherKey, login}, code: 1, stderr: "invalid cookie: sessions: bad signature"},
		{name: "verify tampered", args: []string{"verify", "--key", testKey, "x" + login}, code: 1, stderr: "invalid cookie"},
		{name: "verify expired", now: later, args: []string{"verify", "--key", testKey, login}, code: 1, stderr: "session expired (MaxAge"},
		{name: "verify longer max-age", now: later, args: []string{"verify", "--key", testKey, "--max-age", "720h", login}, stdout: []string{"verified: YES"}},
		{name: "verify future", now: t0.Add(-time.Hour), args: []string{"verify", "--key", testKey, login}, code: 1, stderr: "timestamp in the future"},
		{name: "verify other name", args: []string{"verify", "--key", testKey, "--name", "sid", named}, stdout: []string{"verified: YES", `cookie name "sid"`}},
		{name: "verify name is bound", args: []string{"verify", "--key", testKey, named}, code: 1, stderr: "bad signature"},
		{name: "verify sid=VALUE", args: []string{"verify", "--key", testKey, "--name", "sid", "sid=" + named}, stdout: []string{"verified: YES"}},
		{name: "verify format case", args: []string{"verify", "--key", testKey, "--format", " ItsDangerous", login}, stdout: []string{"format itsdangerous", "user:     alice"}},
		{name: "verify other format", args: []string{"verify", "--key", testKey, "--format", "flask", login}, code: 1, stderr: "invalid cookie"},
		{name: "verify store id", args: []string{"verify", "--key", testKey, storeID}, code: 1, stderr: "not a valid session id for this key and cookie name"},
		{name: "verify no key", args: []string{"verify", login}, code: 2, stderr: "no key"},
		{name: "verify weak key", args: []string{"verify", "--key", "short", login}, code: 2, stderr: "shorter than 32 bytes"},
		{name: "verify weak fallback", args: []string{"verify", "--key", testKey, "--fallback", "short", login}, code: 2, stderr: "shorter than 32 bytes"},
		{name: "verify bad name", args: []string{"verify", "--key", testKey, "--name", "a b", login}, code: 2, stderr: "invalid configuration"},
		{name: "verify bad max-age", args: []string{"verify", "--key", testKey, "--max-age", "soon", login}, code: 2, stderr: "invalid value"},

		{name: "sign bad json", args: []string{"sign", "--key", testKey, `{"a":`}, code: 2, stderr: "not a JSON object"},
		{name: "sign array", args: []string{"sign", "--key", testKey, `[1]`}, code: 2, stderr: "not a JSON object"},
		{name: "sign null", args: []string{"sign", "--key", testKey, `null`}, code: 2, stderr: "not a JSON object"},
		{name: "sign trailing data", args: []string{"sign", "--key", testKey, `{} {}`}, code: 2, stderr: "data after the object"},
		{name: "sign too large", args: []string{"sign", "--key", testKey, `{"x":"` + noise(5000) + `"}`}, code: 1, stderr: "over the limit of 4096; largest keys: \"x\""},
		{name: "sign no key", args: []string{"sign", `{}`}, code: 2, stderr: "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0.Add(5 * time.Minute)
			}
			code, out, errs := ctl(t, now, tt.envKey, tt.args...)
			require.Equal(t, tt.code, code, "exit code; stderr %q; stdout %q", errs, out)
			for _, s := range tt.stdout {
				assert.Contains(t, out, s, "stdout")
			}
			for _, s := range tt.without {
				assert.NotContains(t, out, s, "stdout")
			}
			if tt.code == 0 {
				assert.Empty(t, errs, "stderr")
				return
			}
			assert.Contains(t, errs, tt.stderr, "stderr")
			assert.Regexp(t, `\Asessionctl: [^\n]*\n\z`, errs, "stderr is one line starting with \"sessionctl: \"")
			assert.Empty(t, out, "stdout on failure")
		})
	}
}

func TestKeygen(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		code, out, errs := ctl(t, t0, "", "keygen")
		require.Equal(t, 0, code, "exit code; stderr %q", errs)
		key := strings.TrimSpace(out)
		raw, err := base64.RawURLEncoding.DecodeString(key)
		require.NoError(t, err, "key %q is not base64url", key)
		require.Len(t, raw, 32, "key %q", key)
		require.False(t, seen[key], "key %q repeated", key)
		seen[key] = true
		// The key is accepted by the library.
		_, err = sessions.New(sessions.SessionConfig{SecretKey: key})
		require.NoError(t, err, "New rejects keygen's key")
	}
}

// TestSignVerifyFormats mints a cookie in every format and checks that
// verify accepts it, decode detects the format, and another key fails.
func TestSignVerifyFormats(t *testing.T) {
	now := t0.Add(time.Minute)
	for _, f := range formatNames() {
		t.Run(f, func(t *testing.T) {
			c := signed(t, t0, testKey, `{"lang":"de","n":3}`, "--format", f)
			code, out, errs := ctl(t, now, "", "verify", "--key", testKey, "--format", f, c)
			require.Equal(t, 0, code, "verify: exit code; stderr %q", errs)
			for _, want := range []string{"verified: YES (format " + f, `"lang": "de"`, `"n": 3`} {
				assert.Contains(t, out, want, "verify stdout")
			}
			code, out, errs = ctl(t, now, "", "decode", c)
			require.Equal(t, 0, code, "decode: exit code; stderr %q", errs)
			assert.Contains(t, out, "format:   "+f+" (detected", "decode stdout")
			code, _, errs = ctl(t, now, "", "verify", "--key", otherKey, "--format", f, c)
			assert.Equal(t, 1, code, "verify with another key: exit code")
			assert.Contains(t, errs, "invalid cookie", "verify with another key: stderr")
		})
	}
}
