package interop

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
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
			ops[i].Secret = testKey
		}
	}
	return peerJSON[jwtOp, jwtResult](t, debianPython, jwtPeer, ops)
}

func TestJWTInteropMicrodotToGo(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT})
	now := time.Now().Unix()
	out := runJWT(t,
		// microdot's own cookie: no iat, no exp.
		jwtOp{Op: "encode", Payload: map[string]any{"user": "ann", "n": 41, "list": []any{1, "x"}}},
		jwtOp{Op: "encode", Payload: map[string]any{"user": "bob", "iat": now - 60, "exp": now + 3600}},
	)
	want := map[string]any{"user": "ann", "n": json41, "list": []any{json1, "x"}}
	assert.Equal(t, want, g.serve(t, out[0].Token, nil).Values, "Go read microdot's cookie")
	// iat and exp are the codec's: not session keys, and iat is the issue time.
	got, err := g.decode(t, out[1].Token)
	require.NoError(t, err, "Decode(token with iat, exp)")
	assert.Equal(t, map[string]any{"user": "bob"}, got, "Decode(token with iat, exp)")
	assert.Equal(t, now-60, g.serve(t, out[1].Token, nil).Created.Unix(), "Created of a token with iat")
}

func TestJWTInteropGoToMicrodot(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT, MaxAge: 2 * time.Hour})
	res := g.serve(t, "", func(r *http.Request, s *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), "u-1"), "Login")
		s.Set("cart", []any{"apple"})
		s.Set("iat", 1) // reserved in this format: ignored
	})
	require.True(t, res.Set, "Go set no cookie")
	now := time.Now().Unix()
	out := runJWT(t, jwtOp{Op: "decode", Token: res.Cookie})
	p := out[0].Payload
	require.Nil(t, out[0].Error, "microdot decode = %v", p)
	require.JSONEq(t, `["apple"]`, compactJSON(t, p["cart"]), "microdot decode = %v", p)
	iat, ok := p["iat"].(json.Number)
	require.True(t, ok, "Go's JWT lacks iat: %v", p)
	exp, ok := p["exp"].(json.Number)
	require.True(t, ok, "Go's JWT lacks exp: %v", p)
	i, err := iat.Int64()
	require.NoError(t, err, "iat")
	e, err := exp.Int64()
	require.NoError(t, err, "exp")
	assert.Equal(t, int64((2 * time.Hour).Seconds()), e-i, "exp - iat, want MaxAge")
	assert.True(t, i <= now+1 && i >= now-60, "iat %d, want now (%d)", i, now)
	md, _ := p[sessions.ReservedKey].(map[string]any)
	assert.Equal(t, "u-1", md["uid"], "user id in the claims: %v", p[sessions.ReservedKey])

	// microdot changes the session with encode(); Go reads it, login intact.
	p["cart"] = []any{"apple", "pear"}
	back := runJWT(t, jwtOp{Op: "encode", Payload: p})
	again := g.serve(t, back[0].Token, nil)
	assert.Equal(t, "u-1", again.UserID, "Go read microdot's change: user")
	assert.JSONEq(t, `["apple","pear"]`, compactJSON(t, again.Values["cart"]), "Go read microdot's change: %v", again.Values)
}

func TestJWTInteropRejects(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT})
	now := time.Now().Unix()
	k := map[string]any{"k": "v"}
	out := runJWT(t,
		jwtOp{Op: "encode", Payload: k},
		jwtOp{Op: "encode", Secret: wrongKey, Payload: k},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": now - 7200, "exp": now - 3600}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": now + 3600}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "iat": daysAgo(15).Unix()}},
		jwtOp{Op: "encode", Payload: map[string]any{"k": "v", "exp": "tomorrow"}},
		jwtOp{Op: "encode", Alg: "none", Payload: k},
		jwtOp{Op: "encode", Alg: "HS512", Payload: k},
		jwtOp{Op: "encode", Alg: "HS384", Payload: k},
		jwtOp{Op: "encode", Alg: "RS256", Payload: k},
	)
	_, err := g.decode(t, out[0].Token)
	require.NoError(t, err, "Go rejected microdot's good cookie")
	g.wantRejected(t, "microdot", []badCookie{
		{"tampered", tamper(out[0].Token), sessions.ErrInvalidCookie},
		{"wrong key", out[1].Token, sessions.ErrBadSignature},
		{"exp passed", out[2].Token, sessions.ErrExpired},
		{"iat in the future", out[3].Token, sessions.ErrFuture},
		{"iat older than MaxAge", out[4].Token, sessions.ErrExpired},
		{"exp not a number", out[5].Token, sessions.ErrMalformed},
		{"alg none", out[6].Token, sessions.ErrBadSignature},
		{"alg HS512", out[7].Token, sessions.ErrBadSignature},
		{"alg HS384", out[8].Token, sessions.ErrBadSignature},
		{"alg RS256", out[9].Token, sessions.ErrBadSignature},
		{"not a JWT", "abc.def", sessions.ErrMalformed},
	})
	_, err = g.decode(t, out[2].Token)
	var expired *sessions.ExpiredError
	require.ErrorAs(t, err, &expired, "expired token")
	assert.Equal(t, "exp", expired.Which, "expired token: the limit exceeded")

	cases := g.goCookies(t, k)
	var ops []jwtOp
	for _, tc := range cases {
		ops = append(ops, jwtOp{Op: "decode", Token: tc.value})
	}
	for i, r := range runJWT(t, ops...) {
		assert.Equal(t, cases[i].accept, r.Payload["k"] == "v",
			"microdot decoded Go's %s token as %v (error %v)", cases[i].name, r.Payload, r.Error)
	}
}

func TestJWTInteropKeyRotation(t *testing.T) {
	t.Parallel()
	out := runJWT(t, jwtOp{Op: "encode", Secret: oldKey, Payload: map[string]any{"k": "v"}})
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT, SecretKey: testKey, FallbackKeys: []string{oldKey}})
	res := g.serve(t, out[0].Token, nil)
	require.Equal(t, "v", res.Values["k"], "Go with the fallback key")
	require.True(t, res.Set, "Go did not re-sign the fallback-key token")
	check := runJWT(t, jwtOp{Op: "decode", Token: res.Cookie}, jwtOp{Op: "decode", Token: out[0].Token})
	assert.Equal(t, "v", check[0].Payload["k"], "microdot on the new key rejected Go's re-signed token: %v", check[0].Error)
	assert.Empty(t, check[1].Payload, "microdot on the new key accepted the old token")
}
