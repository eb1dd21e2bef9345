package sessions

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// These tests run PyJWT as microdot's Session.encode()/decode() use it
// (testdata/peers/jwt_peer.py) against the Go middleware configured with
// FormatJWT, in both directions.

const jwtPeer = "testdata/peers/jwt_peer.py"

type jwtOp struct {
	Op      string         `json:"op"`
	Secret  string         `json:"secret"`
	Payload map[string]any `json:"payload,omitempty"`
	Alg     string         `json:"alg,omitempty"`
	Token   string         `json:"token,omitempty"`
}

type jwtResult struct {
	Token   string         `json:"token"`
	Payload map[string]any `json:"payload"`
	Error   *string        `json:"error"`
}

func runJWT(t *testing.T, ops ...jwtOp) []jwtResult {
	t.Helper()
	for i := range ops {
		if ops[i].Secret == "" {
			ops[i].Secret = ixKey
		}
	}
	return ixPeer[jwtOp, jwtResult](t, "/usr/bin/python3", jwtPeer, ops)
}

func TestJWTInteropMicrodotToGo(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatJWT})
	now := time.Now().Unix()
	out := runJWT(t,
		// microdot's own cookie: no iat, no exp.
		jwtOp{Op: "encode", Payload: map[string]any{"user": "ann", "n": 41, "list": []any{1, "x"}}},
		jwtOp{Op: "encode", Payload: map[string]any{"user": "bob", "iat": now - 60, "exp": now + 3600}},
	)
	want := map[string]any{"user": "ann", "n": json41, "list": []any{json1, "x"}}
	if got := ixServe(t, m, out[0].Token, nil); !reflect.DeepEqual(got.Values, want) {
		t.Errorf("Go read microdot's cookie as %#v, want %#v", got.Values, want)
	}
	// iat and exp are the codec's: not session keys, and iat is the issue time.
	got, err := m.Decode(out[1].Token)
	if err != nil || !reflect.DeepEqual(got, map[string]any{"user": "bob"}) {
		t.Errorf("Decode(token with iat, exp) = %v, %v; want user=bob only", got, err)
	}
	d, err := m.codec.Decode(out[1].Token, time.Now())
	if err != nil || d.Issued.Unix() != now-60 {
		t.Errorf("codec Decode: Issued %v, %v; want iat %d", d.Issued, err, now-60)
	}
}

func TestJWTInteropGoToMicrodot(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatJWT, MaxAge: 2 * time.Hour})
	res := ixServe(t, m, "", func(r *http.Request, s *Session) {
		if err := Login(r.Context(), "u-1"); err != nil {
			t.Error(err)
		}
		s.Set("cart", []any{"apple"})
		s.Set("iat", 1) // reserved in this format: ignored
	})
	if !res.Set {
		t.Fatal("Go set no cookie")
	}
	now := time.Now().Unix()
	out := runJWT(t, jwtOp{Op: "decode", Token: res.Cookie})
	p := out[0].Payload
	if out[0].Error != nil || ixJSON(t, p["cart"]) != `["apple"]` {
		t.Fatalf("microdot decode = %v (error %v)", p, out[0].Error)
	}
	iat, _ := p["iat"].(interface{ Int64() (int64, error) })
	exp, _ := p["exp"].(interface{ Int64() (int64, error) })
	if iat == nil || exp == nil {
		t.Fatalf("Go's JWT lacks iat/exp: %v", p)
	}
	i, _ := iat.Int64()
	e, _ := exp.Int64()
	if e-i != int64((2*time.Hour).Seconds()) || i > now+1 || i < now-60 {
		t.Errorf("iat %d, exp %d (now %d): want exp = iat + MaxAge, iat now", i, e, now)
	}
	if md, _ := p[ReservedKey].(map[string]any); md["uid"] != "u-1" {
		t.Errorf("user id in the claims: %v", p[ReservedKey])
	}

	// microdot changes the session with encode(); Go reads it, login intact.
	p["cart"] = []any{"apple", "pear"}
	back := runJWT(t, jwtOp{Op: "encode", Payload: p})
	again := ixServe(t, m, back[0].Token, nil)
	if again.UserID != "u-1" || ixJSON(t, again.Values["cart"]) != `["apple","pear"]` {
		t.Errorf("Go read microdot's change as %v, user %q", again.Values, again.UserID)
	}
}

func TestJWTInteropRejects(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatJWT})
	now := time.Now().Unix()
	k := map[string]any{"k": "v"}
	out := runJWT(t,
		jwtOp{Op: "encode", Payload: k},
		jwtOp{Op: "encode", Secret: ixWrong, Payload: k},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": now - 7200, "exp": now - 3600}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": now + 3600}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": ixDaysAgo(15).Unix()}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "exp": "tomorrow"}},
		jwtOp{Op: "encode", Alg: "none", Payload: k},
		jwtOp{Op: "encode", Alg: "HS512", Payload: k},
		jwtOp{Op: "encode", Alg: "HS384", Payload: k},
		jwtOp{Op: "encode", Alg: "RS256", Payload: k},
	)
	if _, err := m.Decode(out[0].Token); err != nil {
		t.Fatalf("Go rejected microdot's good cookie: %v", err)
	}
	ixWantRejected(t, m, "microdot", []ixBadCookie{
		{"tampered", ixTamper(out[0].Token), ErrInvalidCookie},
		{"wrong key", out[1].Token, ErrBadSignature},
		{"exp passed", out[2].Token, ErrExpired},
		{"iat in the future", out[3].Token, ErrFuture},
		{"iat older than MaxAge", out[4].Token, ErrExpired},
		{"exp not a number", out[5].Token, ErrMalformed},
		{"alg none", out[6].Token, ErrBadSignature},
		{"alg HS512", out[7].Token, ErrBadSignature},
		{"alg HS384", out[8].Token, ErrBadSignature},
		{"alg RS256", out[9].Token, ErrBadSignature},
		{"not a JWT", "abc.def", ErrMalformed},
	})
	var exp *ExpiredError
	if _, err := m.Decode(out[2].Token); !errors.As(err, &exp) || exp.Which != "exp" {
		t.Errorf("expired token: %v, want an ExpiredError for exp", err)
	}

	cases := ixGoCookies(t, m, k)
	var ops []jwtOp
	for _, tc := range cases {
		ops = append(ops, jwtOp{Op: "decode", Token: tc.value})
	}
	for i, r := range runJWT(t, ops...) {
		if accepted := r.Payload["k"] == "v"; accepted != cases[i].accept {
			t.Errorf("microdot decoded Go's %s token as %v (error %v), want accepted=%v", cases[i].name, r.Payload, r.Error, cases[i].accept)
		}
	}
}

func TestJWTInteropKeyRotation(t *testing.T) {
	t.Parallel()
	out := runJWT(t, jwtOp{Op: "encode", Secret: ixOld, Payload: map[string]any{"k": "v"}})
	m := ixNew(t, SessionConfig{Format: FormatJWT, SecretKey: ixKey, FallbackKeys: []string{ixOld}})
	res := ixServe(t, m, out[0].Token, nil)
	if res.Values["k"] != "v" || !res.Set {
		t.Fatalf("Go with the fallback key: values %v, re-signed %v", res.Values, res.Set)
	}
	check := runJWT(t, jwtOp{Op: "decode", Token: res.Cookie}, jwtOp{Op: "decode", Token: out[0].Token})
	if check[0].Payload["k"] != "v" {
		t.Errorf("microdot on the new key rejected Go's re-signed token: %v", check[0].Error)
	}
	if len(check[1].Payload) != 0 {
		t.Errorf("microdot on the new key accepted the old token")
	}
}
