package sessions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJWTTimeClaims(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := NewClock(t0)
	m := NewEnv(t, SessionConfig{Format: FormatJWT, Now: clock.Now, MaxAge: time.Hour, ClockSkew: time.Minute}).M
	key := []byte(TestKey)
	sign := func(method jwt.SigningMethod, k any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	u := t0.Unix()
	for _, tc := range []struct {
		name   string
		token  string
		at     time.Duration
		want   error
		which  string
		issued int64
	}{
		{"no time claims", sign(jwtAlg, key, jwt.MapClaims{"k": "v"}), 100 * 24 * time.Hour, nil, "", 0},
		{"exp in time", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "exp": u + 10}), 10 * time.Second, nil, "", 0},
		{"exp within skew", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "exp": u + 10}), 69 * time.Second, nil, "", 0},
		{"exp passed", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "exp": u + 10}), 71 * time.Second, ErrExpired, "exp", 0},
		{"iat ok", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "iat": u}), 0, nil, "", u},
		{"iat older than MaxAge", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "iat": u}), time.Hour + time.Second, ErrExpired, "MaxAge", u},
		{"iat within skew", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "iat": u + 60}), 0, nil, "", u + 60},
		{"iat in the future", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "iat": u + 61}), 0, ErrFuture, "", 0},
		{"nbf in the future", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "nbf": u + 61}), 0, ErrFuture, "", 0},
		{"iat a string", sign(jwtAlg, key, jwt.MapClaims{"k": "v", "iat": "now"}), 0, ErrMalformed, "", 0},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"k": "v"}), 0, ErrBadSignature, "", 0},
		{"alg HS512, same key", sign(jwt.SigningMethodHS512, key, jwt.MapClaims{"k": "v"}), 0, ErrBadSignature, "", 0},
		{"alg HS384, same key", sign(jwt.SigningMethodHS384, key, jwt.MapClaims{"k": "v"}), 0, ErrBadSignature, "", 0},
		{"claims not an object", sign(jwtAlg, key, nil), 0, ErrMalformed, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.Set(t0.Add(tc.at))
			got, err := m.Decode(context.Background(), tc.token)
			if !errors.Is(err, tc.want) || (err != nil && !errors.Is(err, ErrInvalidCookie)) {
				t.Fatalf("Decode = %v, %v; want %v", got, err, tc.want)
			}
			if tc.which != "" {
				var e *ExpiredError
				if !errors.As(err, &e) || e.Which != tc.which {
					t.Errorf("error %v, want an ExpiredError for %s", err, tc.which)
				}
			}
			if err != nil {
				return
			}
			if got["k"] != "v" || len(got) != 1 {
				t.Errorf("values = %v, want only k=v", got)
			}
			d, err := m.codec.Decode(tc.token, clock.Now())
			if err != nil || d.Issued.Unix() != tc.issued && !(tc.issued == 0 && d.Issued.IsZero()) {
				t.Errorf("Issued = %v, %v; want %d", d.Issued, err, tc.issued)
			}
		})
	}
}

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

// FormatJWT accepts HS256 only: "none", another HMAC size under the same
// key, and tokens with bad time claims are rejected.
func TestSecurityJWTAlgorithmsAndClaims(t *testing.T) {
	clk := NewClock(TestStart)
	e := NewEnv(t, SessionConfig{Format: FormatJWT, Now: clk.Now})
	claims := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"k": "v", ReservedKey: map[string]any{"c": TestStart.Unix(), "uid": "alice"}, "iat": TestStart.Unix(), "exp": TestStart.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	sign := func(method jwt.SigningMethod, key any, c jwt.MapClaims) string {
		v, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	key := []byte(TestKey)
	if _, err := e.M.Decode(context.Background(), sign(jwt.SigningMethodHS256, key, claims(nil))); err != nil {
		t.Fatalf("genuine HS256 token rejected: %v", err)
	}
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), ErrInvalidCookie},
		{"HS384 same key", sign(jwt.SigningMethodHS384, key, claims(nil)), ErrInvalidCookie},
		{"HS512 same key", sign(jwt.SigningMethodHS512, key, claims(nil)), ErrInvalidCookie},
		{"HS256 other key", sign(jwt.SigningMethodHS256, []byte(TestOtherKey), claims(nil)), ErrBadSignature},
		{"expired", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"exp": TestStart.Add(-time.Hour).Unix()})), ErrExpired},
		{"issued in the future", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"iat": TestStart.Add(time.Hour).Unix()})), ErrFuture},
		{"not valid yet", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"nbf": TestStart.Add(time.Hour).Unix()})), ErrFuture},
		{"iat a string", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"iat": "yesterday"})), ErrInvalidCookie},
		{"exp a string", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"exp": "never"})), ErrInvalidCookie},
		{"older than MaxAge", sign(jwt.SigningMethodHS256, key, claims(map[string]any{"iat": TestStart.Add(-DefaultMaxAge - time.Second).Unix(), "exp": nil})), ErrExpired},
	}
	for _, c := range cases {
		_, err := e.M.Decode(context.Background(), c.token)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("%s: Decode = %v, want %v", c.name, err, c.want)
		}
		if seen := e.Load("session=" + c.token); seen.UserID != "" {
			t.Errorf("%s: middleware accepted it as user %q", c.name, seen.UserID)
		}
	}
}

// TestJWTVectors: a token PyJWT 2.6 wrote, pinned so that the format stays
// fixed even where Python is missing; Go writes the identical token.
func TestJWTVectors(t *testing.T) {
	checkPythonVector(t, FormatJWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrIjoidiIsIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9LCJleHAiOjE3MDEyMDk2MDAsImlhdCI6MTcwMDAwMDAwMH0.mWcp8YpTZZ_FcdqO5WwSb2R14ui534_aK8gS21AjtQY", true, map[string]any{"k": "v"})
}
