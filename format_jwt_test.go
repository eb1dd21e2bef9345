package sessions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJWTWrite(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewEnv(t, SessionConfig{Format: FormatJWT, Now: func() time.Time { return t0 }, MaxAge: time.Hour}).M
	v, err := m.Encode(map[string]any{"k": "v"})
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(v, claims)
	require.NoError(t, err)
	assert.Equal(t, "HS256", tok.Header["alg"])
	assert.Equal(t, "JWT", tok.Header["typ"])
	// k, iat = now, exp = now + MaxAge, no nbf.
	assert.Equal(t, jwt.MapClaims{"k": "v", "iat": float64(t0.Unix()), "exp": float64(t0.Add(time.Hour).Unix()), ReservedKey: map[string]any{"c": float64(t0.Unix())}}, claims)
	assert.True(t, (jwtScheme{}).reserved(ReservedKey), "%s is reserved", ReservedKey)
	// An empty session still gets its time claims.
	c := newJWTCodec([][]byte{[]byte(TestKey)}, time.Hour, 0)
	for _, p := range []string{`{}`, ` { } `} {
		v, err := c.Encode([]byte(p), t0)
		require.NoError(t, err)
		d, err := c.Decode(v, t0)
		require.NoError(t, err)
		assert.JSONEq(t, `{"exp":1893459600,"iat":1893456000}`, string(d.Payload), "empty payload %q", p)
	}
	_, err = c.Encode([]byte(`[1]`), t0)
	assert.Error(t, err, "Encode of a JSON array")
}

// TestJWTVectors: a token PyJWT 2.6 wrote, pinned so that the format stays
// fixed even where Python is missing; Go writes the identical token.
func TestJWTVectors(t *testing.T) {
	checkPythonVector(t, FormatJWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrIjoidiIsIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9LCJleHAiOjE3MDEyMDk2MDAsImlhdCI6MTcwMDAwMDAwMH0.mWcp8YpTZZ_FcdqO5WwSb2R14ui534_aK8gS21AjtQY", true, map[string]any{"k": "v"})
}

// FormatJWT accepts HS256 only: "none", another HMAC size under the same
// key and another key are rejected; exp, nbf and iat are enforced with the
// clock skew, iat also against MaxAge; a token without iat has no age.
func TestSecurityJWTAlgorithmsAndClaims(t *testing.T) {
	e := NewEnv(t, SessionConfig{Format: FormatJWT, MaxAge: time.Hour, ClockSkew: time.Minute})
	u := TestStart.Unix()
	key := []byte(TestKey)
	sign := func(method jwt.SigningMethod, k any, claims jwt.MapClaims) string {
		v, err := jwt.NewWithClaims(method, claims).SignedString(k)
		require.NoError(t, err)
		return v
	}
	hs256 := func(claims jwt.MapClaims) string { return sign(jwt.SigningMethodHS256, key, claims) }
	// full is a session as FormatJWT writes it, with extra claims set (or
	// removed, for a nil value).
	full := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"k": "v", ReservedKey: map[string]any{"c": u, "uid": "alice"}, "iat": u, "exp": u + 3600}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		token  string
		at     time.Duration // the clock, from TestStart
		want   error
		which  string // ExpiredError.Which, if any
		issued int64  // Decoded.Issued of an accepted token, 0 for none
	}{
		{"genuine", hs256(full(nil)), 0, nil, "", u},
		{"no time claims", hs256(jwt.MapClaims{"k": "v"}), 100 * 24 * time.Hour, nil, "", 0},
		{"exp in time", hs256(jwt.MapClaims{"k": "v", "exp": u + 10}), 10 * time.Second, nil, "", 0},
		{"exp within skew", hs256(jwt.MapClaims{"k": "v", "exp": u + 10}), 69 * time.Second, nil, "", 0},
		{"exp passed", hs256(jwt.MapClaims{"k": "v", "exp": u + 10}), 71 * time.Second, ErrExpired, "exp", 0},
		{"expired", hs256(full(map[string]any{"exp": u - 3600})), 0, ErrExpired, "", 0},
		{"iat ok", hs256(jwt.MapClaims{"k": "v", "iat": u}), 0, nil, "", u},
		{"iat older than MaxAge", hs256(jwt.MapClaims{"k": "v", "iat": u}), time.Hour + time.Second, ErrExpired, "MaxAge", 0},
		{"older than MaxAge, no exp", hs256(full(map[string]any{"iat": u - 3601, "exp": nil})), 0, ErrExpired, "", 0},
		{"iat within skew", hs256(jwt.MapClaims{"k": "v", "iat": u + 60}), 0, nil, "", u + 60},
		{"iat in the future", hs256(jwt.MapClaims{"k": "v", "iat": u + 61}), 0, ErrFuture, "", 0},
		{"issued an hour ahead", hs256(full(map[string]any{"iat": u + 3600})), 0, ErrFuture, "", 0},
		{"nbf in the future", hs256(jwt.MapClaims{"k": "v", "nbf": u + 61}), 0, ErrFuture, "", 0},
		{"not valid for an hour", hs256(full(map[string]any{"nbf": u + 3600})), 0, ErrFuture, "", 0},
		{"iat a string", hs256(jwt.MapClaims{"k": "v", "iat": "now"}), 0, ErrMalformed, "", 0},
		{"exp a string", hs256(full(map[string]any{"exp": "never"})), 0, ErrInvalidCookie, "", 0},
		{"claims not an object", hs256(nil), 0, ErrMalformed, "", 0},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, full(nil)), 0, ErrBadSignature, "", 0},
		{"HS384 same key", sign(jwt.SigningMethodHS384, key, full(nil)), 0, ErrBadSignature, "", 0},
		{"HS512 same key", sign(jwt.SigningMethodHS512, key, full(nil)), 0, ErrBadSignature, "", 0},
		{"HS256 other key", sign(jwt.SigningMethodHS256, []byte(TestOtherKey), full(nil)), 0, ErrBadSignature, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.Set(TestStart.Add(tc.at))
			got, err := e.M.Decode(context.Background(), tc.token)
			seen := e.Load("session=" + tc.token)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.ErrorIs(t, err, ErrInvalidCookie)
				if tc.which != "" {
					var ee *ExpiredError
					require.ErrorAs(t, err, &ee)
					assert.Equal(t, tc.which, ee.Which)
				}
				assert.Empty(t, seen.UserID, "the middleware accepted it")
				assert.Empty(t, seen.Values, "the middleware accepted it")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"k": "v"}, got)
			assert.Equal(t, "v", seen.Values["k"], "through the middleware")
			d, err := e.M.codec.Decode(tc.token, e.Clock.Now())
			require.NoError(t, err)
			if tc.issued == 0 {
				assert.True(t, d.Issued.IsZero(), "Issued = %v, want none", d.Issued)
			} else {
				assert.Equal(t, tc.issued, d.Issued.Unix(), "Issued")
			}
		})
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

func jwtHeaderOf(t testing.TB, token string) map[string]any {
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
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
	jm := NewEnv(t, SessionConfig{Format: FormatJWT, FallbackKeys: []string{TestOtherKey}}).M
	_, err := jm.Decode(t.Context(), forged)
	require.ErrorIs(t, err, ErrBadSignature)
	ctx := context.Background()
	jwtAllocs := Allocs(func() { jm.Decode(ctx, forged) })

	im := NewEnv(t, SessionConfig{FallbackKeys: []string{TestOtherKey}}).M
	good, err := im.Encode(map[string]any{"a": claims.String()})
	require.NoError(t, err)
	forgedIts := good[:len(good)-5] + "AAAAA"
	_, err = im.Decode(ctx, forgedIts)
	require.ErrorIs(t, err, ErrBadSignature)
	itsAllocs := Allocs(func() { im.Decode(ctx, forgedIts) })
	// Both are 0 (BenchmarkDecodeForged): the MAC fails before anything
	// is decoded. Under the race detector sync.Pool drops some of what it
	// is given, so a few pooled HMACs are rebuilt. Decoding the 300 claims
	// would cost hundreds.
	limit := 0.0
	if raceDetector {
		limit = 10
	}
	assert.LessOrEqual(t, jwtAllocs, limit, "allocations for a forged JWT")
	assert.LessOrEqual(t, itsAllocs, limit, "allocations for a forged itsdangerous cookie")
}

// The header must be HS256's and nothing else, checked after the MAC: no
// crit, no member twice, no other member or value.
func TestJWTHeaderRules(t *testing.T) {
	m := NewEnv(t, SessionConfig{Format: FormatJWT, Now: time.Now}).M
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
		_, err := m.Decode(t.Context(), jwtToken(t, TestKey, tt.header, claims))
		if tt.ok {
			assert.NoError(t, err, "header %s", tt.header)
		} else {
			assert.ErrorIs(t, err, ErrMalformed, "header %s", tt.header)
		}
		if strings.Contains(tt.header, "crit") {
			assert.ErrorContains(t, err, `"crit"`, "a crit header is refused as such")
		}
	}
}

// The claims PyJWT checks are checked as PyJWT checks them.
func TestJWTClaimsAsPyJWTChecksThem(t *testing.T) {
	now := time.Unix(pythonUnix, 0)
	e := NewEnv(t, SessionConfig{Format: FormatJWT, ClockSkew: -1})
	e.Clock.Set(now)
	m := e.M
	n := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tt := range []struct {
		claims string
		want   error // nil: accepted
	}{
		{`{"exp":` + n(time.Second) + `}`, nil},
		{`{"exp":` + n(0) + `}`, ErrExpired}, // PyJWT: exp <= now is expired
		{`{"exp":` + n(-time.Second) + `}`, ErrExpired},
		{`{"nbf":` + n(time.Second) + `}`, ErrFuture},
		{`{"nbf":` + n(0) + `}`, nil},
		{`{"iat":` + n(time.Second) + `}`, ErrFuture},
		{`{"iat":` + n(0) + `}`, nil},
		{`{"iat":-1}`, ErrExpired},                         // before 1970: expired, not ageless
		{`{"iat":-62135596800}`, ErrExpired},               // year 1, the zero time.Time
		{`{"iat":-1e300}`, ErrExpired},                     // far before 1970
		{`{"exp":1e300}`, nil},                             // far future: not expired
		{`{"iat":1699999999.5,"exp":1700000000.5}`, nil},   // PyJWT accepts floats
		{`{"exp":"tomorrow"}`, ErrMalformed},               // PyJWT: DecodeError
		{`{"exp":NaN}`, ErrMalformed},                      // int(nan) fails in PyJWT
		{`{"iat":Infinity}`, ErrMalformed},                 // so does int(inf)
		{`{"aud":"x"}`, ErrMalformed},                      // PyJWT: InvalidAudienceError
		{`{"k":1,"k":2}`, ErrMalformed},                    // strict JSON
		{`{"sub":1,"n":123456789012345678901234567}`, nil}, // the rest is the session's
	} {
		_, err := m.Decode(t.Context(), jwtToken(t, TestKey, `{"alg":"HS256","typ":"JWT"}`, tt.claims))
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
		e := NewEnv(t, SessionConfig{Format: FormatJWT,
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				got = err
				w.WriteHeader(http.StatusInternalServerError)
			}})
		rec := e.Do(func(_ http.ResponseWriter, r *http.Request) {
			s, _ := GetSession(r.Context())
			s.Set(key, 1)
		}, "")
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.Nil(t, testkit.SetCookie(t, rec.Header(), "session"))
		require.Error(t, got, key)
		assert.Contains(t, got.Error(), `"`+key+`"`, "the error names the key")
		_, err := e.M.Encode(map[string]any{key: 1})
		assert.ErrorContains(t, err, `"`+key+`"`)
	}
}

// Logins are microdot.login's: _user_id (a string, or microdot's int) and
// _fresh, both ways.
func TestJWTMicrodotLogin(t *testing.T) {
	e := NewEnv(t, SessionConfig{Format: FormatJWT, Now: time.Now})
	for claims, want := range map[string]string{
		`{"_user_id":"7","_fresh":true}`: "7",
		`{"_user_id":8,"_fresh":false}`:  "8",
		`{"_user_id":null}`:              "",
		`{"k":"v"}`:                      "",
	} {
		var uid string
		e.Do(func(_ http.ResponseWriter, r *http.Request) {
			uid, _ = UserID(r.Context())
		}, jwtToken(t, TestKey, `{"alg":"HS256","typ":"JWT"}`, claims))
		assert.Equal(t, want, uid, "claims %s", claims)
	}
	c := testkit.SetCookie(t, e.Do(login(t, "u-1"), "").Header(), "session")
	require.NotNil(t, c)
	claims := jwtClaims(t, c.Value)
	assert.Equal(t, "u-1", claims["_user_id"])
	assert.Equal(t, true, claims["_fresh"])
	assert.NotContains(t, claims[ReservedKey], "uid")
	assert.Equal(t, "HS256", jwtHeaderOf(t, c.Value)["alg"])
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
	m, err := New(SessionConfig{SecretKey: TestKey, Format: FormatJWT})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, header []byte) {
		token := jwtSign(TestKey, base64.RawURLEncoding.EncodeToString(header)+"."+base64.RawURLEncoding.EncodeToString([]byte(`{"k":"v"}`)))
		_, err := m.Decode(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidCookie) {
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

// BenchmarkDecodeForged measures what a forged cookie costs: a JWT with
// 300 claims and a wrong signature, and an itsdangerous cookie of the same
// payload.
func BenchmarkDecodeForged(b *testing.B) {
	claims := `{"a":[` + strings.TrimSuffix(strings.Repeat(`{"k":"v"},`, 300), ",") + `]}`
	for _, tc := range []struct {
		name   string
		format Format
		value  string
	}{
		{"jwt", FormatJWT, jwtToken(b, "another-key-that-is-long-enough-0123456789", `{"alg":"HS256","typ":"JWT"}`, claims)},
		{"itsdangerous", FormatItsdangerous, b64url(claims) + "." + b64url("\x65\x4d\x2b\x00") + "." + strings.Repeat("A", 43)},
	} {
		m := NewEnv(b, SessionConfig{Format: tc.format}).M
		ctx := context.Background()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Decode(ctx, tc.value); !errors.Is(err, ErrBadSignature) {
					b.Fatal(err)
				}
			}
		})
	}
}
