package sessions

import (
	"context"
	"testing"
	"time"

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
