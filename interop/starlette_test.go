package interop

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run a real Starlette app (testdata/peers/starlette_peer.py:
// SessionMiddleware, TestClient over httpx) against the Go middleware
// configured with FormatStarlette, in both directions.

const starlettePeer = "testdata/peers/starlette_peer.py"

type starletteReq struct {
	Secret string  `json:"secret"`
	Now    *int64  `json:"now,omitempty"`
	Method string  `json:"method"`
	Path   string  `json:"path"`
	Cookie *string `json:"cookie"`
	Quote  bool    `json:"quote,omitempty"`
	JSON   any     `json:"json,omitempty"`
}

func (r *starletteReq) appFields() (secret, method *string, path string) {
	return &r.Secret, &r.Method, r.Path
}

// runStarlette sends the requests to one Starlette process.
func runStarlette(t *testing.T, reqs ...starletteReq) []appResp {
	t.Helper()
	return runApp(t, "starlette", debianPython, starlettePeer, reqs)
}

func TestStarletteInteropRoundTrip(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatStarlette})
	in := map[string]any{"user": "ann", "n": 41, "list": []any{1, "two"}, "nested": map[string]any{"é": "ü\u2028"}}
	out := runStarlette(t, starletteReq{Method: "POST", Path: "/set", JSON: in})
	pyCookie := appCookie(t, out[0])

	// Starlette -> Go, as sent and in double quotes.
	want := map[string]any{"user": "ann", "n": json41, "list": []any{json1, "two"}, "nested": map[string]any{"é": "ü\u2028"}}
	for _, c := range []string{pyCookie, `"` + pyCookie + `"`} {
		assert.Equal(t, want, g.serve(t, c, nil).Values, "Go read Starlette's cookie %q", c)
	}

	// Go changes it and logs the user in; Starlette reads it (plain and
	// quoted), and its own change comes back to Go with the login intact.
	goRes := g.serve(t, pyCookie, func(r *http.Request, s *sessions.Session) {
		assert.NoError(t, sessions.LoginKeep(r.Context(), "ann-id", "user", "n", "list", "nested"), "LoginKeep")
		s.Set("n", 42)
	})
	require.True(t, goRes.Set, "Go set no cookie")
	back := runStarlette(t,
		starletteReq{Path: "/read", Cookie: ptr(goRes.Cookie)},
		starletteReq{Path: "/read", Cookie: ptr(goRes.Cookie), Quote: true},
		starletteReq{Method: "POST", Path: "/incr", Cookie: ptr(goRes.Cookie)},
	)
	for i := range 2 {
		s := appSession(t, back[i])
		assert.Equal(t, json42, s["n"], "Starlette read Go's cookie (quoted=%v) as %v", i == 1, s)
		assert.Equal(t, "ann", s["user"], "Starlette read Go's cookie (quoted=%v) as %v", i == 1, s)
		assert.JSONEq(t, compactJSON(t, in["nested"]), compactJSON(t, s["nested"]), "Starlette read Go's cookie (quoted=%v)", i == 1)
	}
	again := g.serve(t, appCookie(t, back[2]), nil)
	assert.Equal(t, json43, again.Values["n"], "Go read Starlette's change as %v", again.Values)
	assert.Equal(t, "ann-id", again.UserID, "Go read Starlette's change: user")

	// Starlette clearing the session ends it on Go too.
	cl := runStarlette(t, starletteReq{Method: "POST", Path: "/clear", Cookie: ptr(goRes.Cookie)})
	require.NotNil(t, cl[0].Cookie, "Starlette did not delete the cleared session")
	assert.Empty(t, *cl[0].Cookie, "Starlette did not delete the cleared session")
}

func TestStarletteInteropRejects(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatStarlette})
	ago := daysAgo(15).Unix()
	set := map[string]any{"k": "v"}
	out := runStarlette(t,
		starletteReq{Method: "POST", Path: "/set", JSON: set},
		starletteReq{Secret: wrongKey, Method: "POST", Path: "/set", JSON: set},
		starletteReq{Now: &ago, Method: "POST", Path: "/set", JSON: set},
	)
	good, wrong, old := appCookie(t, out[0]), appCookie(t, out[1]), appCookie(t, out[2])
	_, err := g.decode(t, good)
	require.NoError(t, err, "Go rejected Starlette's good cookie")
	g.wantRejected(t, "Starlette", []badCookie{
		{"tampered", tamper(good), sessions.ErrInvalidCookie},
		{"wrong key", wrong, sessions.ErrBadSignature},
		{"expired", old, sessions.ErrExpired},
	})

	cases := g.goCookies(t, set)
	var reqs []starletteReq
	for _, tc := range cases {
		reqs = append(reqs, starletteReq{Path: "/read", Cookie: ptr(tc.value)})
	}
	for i, r := range runStarlette(t, reqs...) {
		assert.Equal(t, cases[i].accept, appSession(t, r)["k"] == "v", "Starlette read Go's %s cookie as %v", cases[i].name, r.Body)
	}
}

func TestStarletteInteropKeyRotation(t *testing.T) {
	t.Parallel()
	out := runStarlette(t, starletteReq{Secret: oldKey, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}})
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatStarlette, SecretKey: testKey, FallbackKeys: []string{oldKey}})
	res := g.serve(t, appCookie(t, out[0]), nil)
	require.Equal(t, "v", res.Values["k"], "Go with the fallback key")
	require.True(t, res.Set, "Go did not re-sign the fallback-key cookie")
	check := runStarlette(t,
		starletteReq{Path: "/read", Cookie: ptr(res.Cookie)},
		starletteReq{Path: "/read", Cookie: out[0].Cookie},
	)
	assert.Equal(t, "v", appSession(t, check[0])["k"], "Starlette on the new key rejected Go's re-signed cookie")
	assert.Empty(t, appSession(t, check[1]), "Starlette on the new key accepted the old cookie")
}
