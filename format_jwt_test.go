package sessions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJWTWrite(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewEnv(t, SessionConfig{Format: FormatJWT, Now: func() time.Time { return t0 }, MaxAge: time.Hour}).M
	v, err := m.Encode(map[string]any{"k": "v", "exp": 1, "iat": 2, "nbf": 3})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(v, claims)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["alg"] != "HS256" || tok.Header["typ"] != "JWT" {
		t.Errorf("header %v", tok.Header)
	}
	if claims["iat"] != float64(t0.Unix()) || claims["exp"] != float64(t0.Add(time.Hour).Unix()) || claims["nbf"] != nil || claims["k"] != "v" {
		t.Errorf("claims %v: want k, iat = now, exp = now + MaxAge, no nbf", claims)
	}
	for _, k := range []string{"iat", "exp", "nbf", ReservedKey} {
		if !(jwtScheme{}).reserved(k) {
			t.Errorf("%s is not reserved", k)
		}
	}
	// An empty session still gets its time claims.
	c := newJWTCodec([][]byte{[]byte(TestKey)}, time.Hour, 0)
	for _, p := range []string{`{}`, ` { } `} {
		v, err := c.Encode([]byte(p), t0)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Decode(v, t0)
		if err != nil || string(d.Payload) != `{"exp":1893459600,"iat":1893456000}` {
			t.Errorf("empty payload %q: %s, %v", p, d.Payload, err)
		}
	}
	if _, err := c.Encode([]byte(`[1]`), t0); err == nil {
		t.Errorf("Encode accepted a JSON array")
	}
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
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	hs256 := func(claims jwt.MapClaims) string { return sign(jwtAlg, key, claims) }
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
		{"HS256 other key", sign(jwtAlg, []byte(TestOtherKey), full(nil)), 0, ErrBadSignature, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.Set(TestStart.Add(tc.at))
			got, err := e.M.Decode(context.Background(), tc.token)
			if !errors.Is(err, tc.want) || (err != nil && !errors.Is(err, ErrInvalidCookie)) {
				t.Fatalf("Decode = %v, %v; want %v", got, err, tc.want)
			}
			if tc.which != "" {
				var ee *ExpiredError
				if !errors.As(err, &ee) || ee.Which != tc.which {
					t.Errorf("error %v, want an ExpiredError for %s", err, tc.which)
				}
			}
			seen := e.Load("session=" + tc.token)
			if err != nil {
				if seen.UserID != "" || len(seen.Values) != 0 {
					t.Errorf("middleware accepted it: %+v", seen)
				}
				return
			}
			if got["k"] != "v" || len(got) != 1 || seen.Values["k"] != "v" {
				t.Errorf("values = %v (middleware %v), want only k=v", got, seen.Values)
			}
			d, err := e.M.codec.Decode(tc.token, e.Clock.Now())
			if err != nil || d.Issued.Unix() != tc.issued && !(tc.issued == 0 && d.Issued.IsZero()) {
				t.Errorf("Issued = %v, %v; want %d", d.Issued, err, tc.issued)
			}
		})
	}
}
