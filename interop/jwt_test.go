package interop

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
	assert.Equal(t, "u-1", p["_user_id"], "microdot.login's user id in the claims: %v", p)
	assert.Equal(t, true, p["_fresh"], "microdot.login's freshness in the claims: %v", p)

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
		{"not a JWT", "abc.def", sessions.ErrBadSignature}, // the MAC is checked first
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

// microdot.login keeps the user id under _user_id (user.id as it is, often
// an int) and freshness under _fresh: a microdot login is a Go login and
// the other way round.
func TestJWTMicrodotLoginBothWays(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT})
	out := runJWT(t,
		jwtOp{Op: "encode", Payload: map[string]any{"_user_id": 7, "_fresh": true, "cart": []any{"apple"}}},
		jwtOp{Op: "encode", Payload: map[string]any{"_user_id": "ann", "_fresh": false}},
	)
	assert.Equal(t, "7", g.serve(t, out[0].Token, nil).UserID, "Go UserID of microdot's login_user")
	assert.Equal(t, "ann", g.serve(t, out[1].Token, nil).UserID)

	res := g.serve(t, "", func(r *http.Request, _ *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), "u-2"))
	})
	back := runJWT(t, jwtOp{Op: "decode", Token: res.Cookie})
	require.Nil(t, back[0].Error, "microdot decode: %v", back[0].Payload)
	assert.Equal(t, "u-2", back[0].Payload["_user_id"], "microdot.login's _get_auth sees no user: %v", back[0].Payload)
	assert.Equal(t, true, back[0].Payload["_fresh"])
}

// PyJWT refuses a token with "aud" when no audience is expected, so
// microdot would read such a session as {}: Go refuses the token too, and
// refuses to write a session key "aud" (or a time claim PyJWT checks),
// with an error naming the key.
func TestJWTClaimsPyJWTValidates(t *testing.T) {
	t.Parallel()
	out := runJWT(t, jwtOp{Op: "encode", Payload: map[string]any{"aud": "x", "k": "v"}})
	dec := runJWT(t, jwtOp{Op: "decode", Token: out[0].Token})
	require.NotNil(t, dec[0].Error)
	assert.Equal(t, "InvalidAudienceError", *dec[0].Error)
	assert.Empty(t, dec[0].Payload)
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT})
	_, err := g.decode(t, out[0].Token)
	assert.ErrorIs(t, err, sessions.ErrMalformed)

	for _, key := range []string{"aud", "exp", "nbf", "iat"} {
		var got error
		cfg := g.cfg
		cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusInternalServerError)
		}
		h := newGo(t, cfg).Handler(sessions.WithSession(func(w http.ResponseWriter, _ *http.Request, s *sessions.Session) {
			s.Set(key, "x")
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, http.StatusInternalServerError, w.Code)
		assert.Empty(t, w.Result().Cookies(), "a token microdot cannot read was sent")
		require.Error(t, got)
		assert.Contains(t, got.Error(), `"`+key+`"`)
	}
}

// microdot copies Go's exp and iat unchanged on its own save(), so a
// session used only on the microdot side dies MaxAge after the last Go
// write, as docs/python.md says.
func TestJWTMicrodotCopiesGoClaims(t *testing.T) {
	t.Parallel()
	// The last Go write was two hours ago, with MaxAge one hour.
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT, MaxAge: time.Hour})
	old := g.encodeAt(t, map[string]any{"k": "v"}, time.Now().Add(-2*time.Hour))
	fresh := g.encode(t, map[string]any{"k": "v"})
	out := runJWT(t, jwtOp{Op: "decode", Token: fresh}, jwtOp{Op: "decode", Token: old})
	require.Nil(t, out[0].Error)
	// microdot changes the session and saves it: exp and iat come along.
	p := out[0].Payload
	p["k"] = "changed by microdot"
	again := runJWT(t, jwtOp{Op: "encode", Payload: p})
	assert.Equal(t, jwtClaims(t, fresh)["exp"], jwtClaims(t, again[0].Token)["exp"], "microdot kept Go's exp")
	got, err := g.decode(t, again[0].Token)
	require.NoError(t, err)
	assert.Equal(t, "changed by microdot", got["k"])
	// Past Go's exp, microdot itself reads the session as empty.
	require.NotNil(t, out[1].Error)
	assert.Equal(t, "ExpiredSignatureError", *out[1].Error)
}

// microdot writes a token as large as the session (4.4 KB here), which
// clients that are not browsers keep: Go reads it.
func TestJWTMicrodotLargeTokenReadByGo(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 205)
	out := runJWT(t, jwtOp{Op: "encode", Payload: map[string]any{"_user_id": "7", "big": big}})
	size := len("session") + len(out[0].Token)
	require.Greater(t, size, sessions.MaxCookieSize)
	t.Logf("microdot token: %d bytes", size)
	res := newGo(t, sessions.SessionConfig{Format: sessions.FormatJWT}).serve(t, out[0].Token, nil)
	assert.Equal(t, "7", res.UserID, "Go rejected microdot's %d-byte token", size)
	assert.Equal(t, big, res.Values["big"])
}

// jwtClaims decodes a token's claims without verifying them.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, decodeJSON(string(raw), &claims))
	return claims
}
