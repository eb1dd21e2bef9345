package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run the real itsdangerous (python3) against the default
// cookie format, in both directions. A missing python3 or itsdangerous is a
// failure, not a skip.

const itsPeer = "testdata/peers/itsdangerous_peer.py"

// itsT0 is the Go side's clock in these tests; the peer is told the time
// explicitly.
var itsT0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// itsDumps has Python sign obj (JSON text) at now, as cookie name.
func itsDumps(t *testing.T, key, name string, now time.Time, obj string) string {
	t.Helper()
	return runPeer(t, python3, itsPeer, obj, "dumps", key, name, strconv.FormatInt(now.Unix(), 10))
}

// itsLoads has Python verify value at now with max_age; it returns the
// payload as JSON, or "error: <exception class>".
func itsLoads(t *testing.T, key, name string, now time.Time, maxAge time.Duration, value string, older ...string) string {
	t.Helper()
	args := append([]string{"loads", key, name, strconv.FormatInt(now.Unix(), 10), strconv.Itoa(int(maxAge / time.Second))}, older...)
	return runPeer(t, python3, itsPeer, value, args...)
}

// itsJSON parses JSON text as a generic value, numbers kept exact.
func itsJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	require.NoError(t, decodeJSON(text, &v), "peer output %q is not JSON", text)
	return v
}

// itsValues is a set of session values that exercise the JSON mapping:
// unicode, nesting, numbers beyond float64 precision, empty containers.
var itsValues = map[string]any{
	"user":    "ålice ☃ 𝄞 \u2028 \"quoted\" \\ <tag>",
	"n":       json.Number("123456789012345678901234567890"),
	"neg":     -42,
	"float":   1.25,
	"t":       true,
	"nothing": nil,
	"nested":  map[string]any{"list": []any{1, "two", map[string]any{"three": []any{}}}, "empty": map[string]any{}},
}

func TestItsdangerousGoMintsPythonVerifies(t *testing.T) {
	g := newGo(t, sessions.SessionConfig{MaxAge: time.Hour, Now: fixedClock(itsT0)})

	// Through a real request: what the middleware writes, Python reads.
	res := g.serve(t, "", func(_ *http.Request, s *sessions.Session) {
		for k, v := range itsValues {
			s.Set(k, v)
		}
		s.AddFlash("info", "hé")
	})
	require.True(t, res.Set, "no cookie")
	got := itsJSON(t, itsLoads(t, testKey, "session", itsT0, time.Hour, res.Cookie))
	want := map[string]any{}
	for k, v := range itsValues {
		want[k] = v
	}
	want[sessions.ReservedKey] = map[string]any{"c": itsT0.Unix(), "f": []any{[]any{"info", "hé"}}}
	assert.Equal(t, itsJSON(t, compactJSON(t, want)), got, "Python read")

	// A compressed cookie, under another cookie name.
	big := map[string]any{"items": strings.Split(strings.Repeat("item,", 300), ",")}
	v := newGo(t, sessions.SessionConfig{CookieName: "__Host-app", Secure: true, Now: fixedClock(itsT0)}).encode(t, big)
	require.True(t, strings.HasPrefix(v, "."), "expected a compressed cookie, got %.40s...", v)
	out := itsLoads(t, testKey, "__Host-app", itsT0, time.Hour, v)
	items, _ := itsJSON(t, out).(map[string]any)["items"].([]any)
	assert.Len(t, items, 301, "Python read from the compressed cookie")
	// The salt binds the cookie name.
	out = itsLoads(t, testKey, "session", itsT0, time.Hour, v)
	assert.True(t, strings.HasPrefix(out, "error: "), "Python accepted a cookie under another name: %s", out)
}

func TestItsdangerousPythonMintsGoReads(t *testing.T) {
	g := newGo(t, sessions.SessionConfig{MaxAge: time.Hour, Now: fixedClock(itsT0)})
	tests := []struct {
		name       string
		obj        string
		compressed bool
		check      func(t *testing.T, s *sessions.Session)
	}{
		{"unicode and nesting", `{"name":"ålice ☃ 𝄞","prefs":{"langs":["fr","日本語"],"n":{"deep":[[1],[2]]}}}`, false,
			func(t *testing.T, s *sessions.Session) {
				v, _ := sessions.GetAs[string](s, "name")
				assert.Equal(t, "ålice ☃ 𝄞", v, "name")
				type prefs struct {
					Langs []string `json:"langs"`
				}
				p, ok := sessions.GetAs[prefs](s, "prefs")
				assert.True(t, ok, "GetAs[prefs]")
				assert.Equal(t, []string{"fr", "日本語"}, p.Langs, "prefs")
			}},
		{"large integers", `{"big":1208925819614629174706176,"i":9007199254740993,"f":0.1}`, false,
			func(t *testing.T, s *sessions.Session) {
				big, _ := s.Get("big")
				assert.Equal(t, json.Number("1208925819614629174706176"), big, "2**80")
				_, ok := sessions.GetAs[int64](s, "big")
				assert.False(t, ok, "GetAs[int64] accepted 2**80")
				i, ok := sessions.GetAs[int64](s, "i")
				assert.True(t, ok, "GetAs[int64](2**53+1)")
				assert.Equal(t, int64(9007199254740993), i, "2**53+1 (precision lost?)")
				f, _ := sessions.GetAs[float64](s, "f")
				assert.Equal(t, 0.1, f, "f")
			}},
		{"compressed", `{"items":[` + strings.TrimSuffix(strings.Repeat(`"item",`, 200), ",") + `]}`, true,
			func(t *testing.T, s *sessions.Session) {
				v, ok := sessions.GetAs[[]string](s, "items")
				assert.True(t, ok, "GetAs[[]string](items)")
				assert.Equal(t, slices.Repeat([]string{"item"}, 200), v, "items")
			}},
		{"user id written by Python", `{"cart":[1],"_ctxsession":{"c":` + strconv.FormatInt(itsT0.Unix(), 10) + `,"uid":"py-7"}}`, false,
			func(t *testing.T, s *sessions.Session) {
				assert.Equal(t, "py-7", s.UserID(), "user")
				assert.True(t, s.Created().Equal(itsT0), "created %v, want %v", s.Created(), itsT0)
				assert.Equal(t, 1, s.Len(), "keys")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookie := itsDumps(t, testKey, "session", itsT0, tt.obj)
			require.Equal(t, tt.compressed, strings.HasPrefix(cookie, "."), "Python cookie %.30s...: compressed", cookie)
			_, err := g.decode(t, cookie)
			require.NoError(t, err, "Go rejected Python's cookie")
			checked := false
			res := g.serve(t, cookie, func(_ *http.Request, s *sessions.Session) {
				tt.check(t, s)
				checked = true
			})
			assert.True(t, checked)
			assert.Empty(t, res.SetCookies, "reading Python's cookie re-set it")
		})
	}
}

func TestItsdangerousExpiryBothWays(t *testing.T) {
	const maxAge = time.Hour
	g := newGo(t, sessions.SessionConfig{MaxAge: maxAge, Now: fixedClock(itsT0)})

	// Go mints at itsT0; Python checks at several times.
	goCookie := g.encode(t, map[string]any{"k": "v"})
	for _, tt := range []struct {
		at     time.Duration
		expect string // "" accepted, else the exception class
	}{
		{0, ""},
		{maxAge, ""},
		{maxAge + time.Second, "SignatureExpired"},
		{-time.Second, "SignatureExpired"}, // signed in Python's future
	} {
		out := itsLoads(t, testKey, "session", itsT0.Add(tt.at), maxAge, goCookie)
		if tt.expect == "" {
			assert.False(t, strings.HasPrefix(out, "error"), "Python at %+v: %s, want accepted", tt.at, out)
		} else {
			assert.Equal(t, "error: "+tt.expect, out, "Python at %+v", tt.at)
		}
	}

	// Python mints; Go checks with Decode and through the middleware.
	for _, tt := range []struct {
		name string
		at   time.Duration // Python's clock, from Go's
		want error         // nil: accepted
	}{
		{"expired", -maxAge - time.Second, sessions.ErrExpired},
		{"exactly MaxAge old", -maxAge, nil},
		{"in the future", 2 * sessions.DefaultClockSkew, sessions.ErrFuture},
		{"within the clock skew", sessions.DefaultClockSkew / 2, nil},
	} {
		cookie := itsDumps(t, testKey, "session", itsT0.Add(tt.at), `{"k":"v"}`)
		_, err := g.decode(t, cookie)
		n := len(g.serve(t, cookie, nil).Values)
		if tt.want == nil {
			assert.NoError(t, err, "%s Python cookie", tt.name)
			assert.Equal(t, 1, n, "%s Python cookie: keys", tt.name)
		} else {
			assert.ErrorIs(t, err, tt.want, "%s Python cookie", tt.name)
			assert.Zero(t, n, "%s Python cookie: keys", tt.name)
		}
	}
}

func TestItsdangerousTamperAndWrongKey(t *testing.T) {
	g := newGo(t, sessions.SessionConfig{Now: fixedClock(itsT0)})
	tamperPayload := func(v string) string {
		// Change the payload, keeping timestamp and signature.
		payload, rest, _ := strings.Cut(v, ".")
		b, err := base64.RawURLEncoding.DecodeString(payload)
		require.NoError(t, err)
		b = bytes.Replace(b, []byte(`"v"`), []byte(`"w"`), 1)
		return base64.RawURLEncoding.EncodeToString(b) + "." + rest
	}

	goCookie := g.encode(t, map[string]any{"k": "v"})
	for name, value := range map[string]string{"tampered": tamperPayload(goCookie), "truncated": goCookie[:len(goCookie)-3]} {
		out := itsLoads(t, testKey, "session", itsT0, time.Hour, value)
		assert.True(t, strings.HasPrefix(out, "error: Bad"), "Python accepted a %s Go cookie: %s", name, out)
	}
	out := itsLoads(t, wrongKey, "session", itsT0, time.Hour, goCookie)
	assert.True(t, strings.HasPrefix(out, "error: Bad"), "Python accepted a Go cookie under the wrong key: %s", out)

	pyCookie := itsDumps(t, testKey, "session", itsT0, `{"k":"v"}`)
	pyOther := itsDumps(t, wrongKey, "session", itsT0, `{"k":"v"}`)
	for name, value := range map[string]string{"tampered": tamperPayload(pyCookie), "wrong key": pyOther} {
		_, err := g.decode(t, value)
		assert.ErrorIs(t, err, sessions.ErrBadSignature, "Go on a %s Python cookie", name)
		assert.Empty(t, g.serve(t, value, nil).Values, "middleware on a %s Python cookie: want a fresh session", name)
	}
}

func TestItsdangerousFallbackKeys(t *testing.T) {
	g := newGo(t, sessions.SessionConfig{SecretKey: testKey, FallbackKeys: []string{oldKey}, Now: fixedClock(itsT0)})

	// Python, still on the old key, mints; Go accepts it through the
	// fallback and re-signs it with the current key on the same response.
	pyOld := itsDumps(t, oldKey, "session", itsT0, `{"k":"v"}`)
	var got string
	res := g.serve(t, pyOld, func(_ *http.Request, s *sessions.Session) { got, _ = sessions.GetAs[string](s, "k") })
	require.Equal(t, "v", got, "fallback-signed Python cookie: k")
	require.True(t, res.Set, "fallback-signed Python cookie not re-signed")
	out := itsLoads(t, testKey, "session", itsT0, time.Hour, res.Cookie)
	assert.Contains(t, out, `"k":"v"`, "Python with the current key alone on the re-signed cookie")
	out = itsLoads(t, oldKey, "session", itsT0, time.Hour, res.Cookie)
	assert.True(t, strings.HasPrefix(out, "error: Bad"), "re-signed cookie still verifies under the old key: %s", out)

	// Go mints with the current key; Python, configured with the same key
	// list (old first, current last), verifies and signs with the current key.
	goCookie := g.encode(t, map[string]any{"k": "v"})
	out = itsLoads(t, testKey, "session", itsT0, time.Hour, goCookie, oldKey)
	assert.Contains(t, out, `"k":"v"`, "Python with the key list on Go's cookie")
	pyNew := itsDumps(t, testKey, "session", itsT0, `{"k":"w"}`)
	v, err := g.decode(t, pyNew)
	require.NoError(t, err, "Go on Python's current-key cookie")
	assert.Equal(t, "w", v["k"], "Go on Python's current-key cookie")
}
