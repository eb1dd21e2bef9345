package interop

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run a real Flask 3.1 app (testdata/peers/flask_peer.py, with
// Flask's test client) against the Go middleware configured with
// FormatFlask, in both directions.

const flaskPeer = "testdata/peers/flask_peer.py"

type flaskReq struct {
	Secret    string   `json:"secret"`
	Fallbacks []string `json:"fallbacks,omitempty"`
	Now       *int64   `json:"now,omitempty"`
	Method    string   `json:"method"`
	Path      string   `json:"path"`
	Cookie    *string  `json:"cookie"`
	JSON      any      `json:"json,omitempty"`
}

func (r *flaskReq) appFields() (secret, method *string, path string) {
	return &r.Secret, &r.Method, r.Path
}

// runFlask sends the requests to one Flask process and returns the responses.
func runFlask(t *testing.T, reqs ...flaskReq) []appResp {
	t.Helper()
	return runApp(t, "flask", python3, flaskPeer, reqs)
}

func TestFlaskInteropTaggedValuesFlaskToGo(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask})
	cookie := appCookie(t, runFlask(t, flaskReq{Method: "POST", Path: "/rich"})[0])

	want := map[string]any{
		"tuple":      []any{json1, "two", []any{json3}},
		"bytes":      []byte("\x00\xffbin"),
		"when":       time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"id":         "12345678-1234-5678-1234-567812345678",
		"html":       "<b>bold</b>",
		"tagged_key": map[string]any{" t": []any{json1, json2}},
		"nested": map[string]any{
			"list":  []any{[]any{json1, json2}, map[string]any{"b": []byte("x")}},
			"plain": "text",
		},
	}
	var when time.Time
	var whenOK bool
	got := g.serve(t, cookie, func(_ *http.Request, s *sessions.Session) {
		when, whenOK = sessions.GetAs[time.Time](s, "when")
	})
	assert.Equal(t, want, got.Values, "Go read Flask's session")
	assert.True(t, whenOK, "GetAs[time.Time](when)")
	assert.True(t, when.Equal(want["when"].(time.Time)), "GetAs[time.Time](when) = %v", when)
	// Middleware.Decode, outside a request, reads the same.
	dec, err := g.decode(t, cookie)
	require.NoError(t, err)
	assert.Equal(t, want, dec, "Decode")

	// Go changes one key and writes the session back as plain JSON; Flask
	// reads every value, and the dict whose key looks like a tag is still
	// a dict.
	back := g.serve(t, cookie, func(_ *http.Request, s *sessions.Session) { s.Set("go", "yes") })
	require.True(t, back.Set, "Go did not write the changed session")
	fs := appSession(t, runFlask(t, flaskReq{Path: "/read", Cookie: ptr(back.Cookie)})[0])
	reserved, _ := fs[sessions.ReservedKey].(map[string]any)
	reservedDict, _ := reserved["dict"].(map[string]any)
	require.Contains(t, reservedDict, "c", "Flask read no creation time in %v", fs[sessions.ReservedKey])
	wantFlask := map[string]any{
		"go":         "yes",
		"tuple":      map[string]any{"list": []any{json1, "two", map[string]any{"list": []any{json3}}}},
		"bytes":      "AP9iaW4=",
		"when":       "2024-05-06T07:08:09Z",
		"id":         "12345678-1234-5678-1234-567812345678",
		"html":       "<b>bold</b>",
		"tagged_key": map[string]any{"dict": map[string]any{" t": map[string]any{"list": []any{json1, json2}}}},
		"nested": map[string]any{"dict": map[string]any{
			"list":  map[string]any{"list": []any{map[string]any{"list": []any{json1, json2}}, map[string]any{"dict": map[string]any{"b": "eA=="}}}},
			"plain": "text",
		}},
		sessions.ReservedKey: map[string]any{"dict": map[string]any{"c": reservedDict["c"]}},
	}
	assert.JSONEq(t, compactJSON(t, wantFlask), compactJSON(t, fs), "Flask read Go's session")
}

func TestFlaskInteropGoToFlask(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask})
	first := g.serve(t, "", func(_ *http.Request, s *sessions.Session) {
		s.Set("name", "gopher")
		s.Set("n", 41)
		s.Set("cart", []any{"apple", map[string]any{" b": "not bytes"}})
		s.AddFlash("info", "saved")
		s.AddFlash("warning", "<i>careful</i>")
	})
	require.True(t, first.Set, "Go set no cookie")
	out := runFlask(t,
		flaskReq{Path: "/read", Cookie: ptr(first.Cookie)},
		flaskReq{Method: "POST", Path: "/incr", Cookie: ptr(first.Cookie)},
		flaskReq{Path: "/flashes", Cookie: ptr(first.Cookie)},
	)
	fs := appSession(t, out[0])
	assert.Equal(t, "gopher", fs["name"], "Flask read name")
	assert.Equal(t, json41, fs["n"], "Flask read n")
	assert.JSONEq(t, `{"list":["apple",{"dict":{" b":"not bytes"}}]}`, compactJSON(t, fs["cart"]), "Flask read cart")
	assert.JSONEq(t, `[["info","saved"],["warning","<i>careful</i>"]]`, compactJSON(t, out[2].Body), "Flask get_flashed_messages")

	// Flask's change comes back to Go.
	back := g.serve(t, appCookie(t, out[1]), nil)
	assert.Equal(t, json42, back.Values["n"], "Go read Flask's update: %v", back.Values)
	assert.Equal(t, "gopher", back.Values["name"], "Go read Flask's update: %v", back.Values)

	// Flask's flash() is read as our flashes, Markup included.
	fl := runFlask(t, flaskReq{Method: "POST", Path: "/flash", JSON: [][2]string{{"error", "boom"}, {"markup", "<b>hi</b>"}}})
	assert.Equal(t, []sessions.Flash{{Category: "error", Message: "boom"}, {Category: "markup", Message: "<b>hi</b>"}},
		g.flashes(t, appCookie(t, fl[0])), "Go read Flask's flashes")
}

func TestFlaskInteropLogin(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask})

	// Logged in on Flask (Flask-Login's login_user) -> logged in on Go.
	in := runFlask(t, flaskReq{Method: "POST", Path: "/login/7"})
	var uid string
	var ok bool
	res := g.serve(t, appCookie(t, in[0]), func(r *http.Request, s *sessions.Session) {
		uid, ok = sessions.UserID(r.Context())
		s.Set("seen_by_go", true)
	})
	assert.True(t, ok, "Go UserID reports no user")
	assert.Equal(t, "7", uid, "Go UserID")
	assert.NotContains(t, res.Values, "_user_id", "_user_id is a reserved key but Go handlers see it")
	// Flask-Login's own keys it does not reserve survive the round trip.
	assert.Contains(t, res.Values, "_id", "Go dropped Flask-Login's _id")
	who := runFlask(t, flaskReq{Path: "/whoami", Cookie: ptr(res.Cookie)}, flaskReq{Path: "/read", Cookie: ptr(res.Cookie)})
	assert.JSONEq(t, `{"authenticated":true,"user":"7"}`, compactJSON(t, who[0].Body), "Flask after Go's write")
	assert.Equal(t, true, who[1].Body.(map[string]any)["fresh"], "Flask _fresh after Go's write")

	// Logged in on Go (Login) -> logged in on Flask, and fresh.
	goIn := g.serve(t, "", func(r *http.Request, _ *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), "go-user"), "Login")
	})
	out := runFlask(t,
		flaskReq{Path: "/whoami", Cookie: ptr(goIn.Cookie)},
		flaskReq{Path: "/read", Cookie: ptr(goIn.Cookie)},
		flaskReq{Method: "POST", Path: "/logout", Cookie: ptr(goIn.Cookie)},
	)
	assert.JSONEq(t, `{"authenticated":true,"user":"go-user"}`, compactJSON(t, out[0].Body), "Flask whoami after Go Login")
	assert.Equal(t, true, out[1].Body.(map[string]any)["fresh"], "Flask _fresh after Go Login")
	// Logged out on Flask -> anonymous on Go.
	assert.Empty(t, g.serve(t, appCookie(t, out[2]), nil).UserID, "Go UserID after Flask logout")
}

func TestFlaskInteropRejects(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask})
	ago := daysAgo(15).Unix()
	out := runFlask(t,
		flaskReq{Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
		flaskReq{Secret: wrongKey, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
		flaskReq{Now: &ago, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
	)
	good, wrong, old := appCookie(t, out[0]), appCookie(t, out[1]), appCookie(t, out[2])

	// Flask -> Go.
	_, err := g.decode(t, good)
	require.NoError(t, err, "Go rejected Flask's good cookie")
	g.wantRejected(t, "Flask", []badCookie{
		{"tampered", tamper(good), sessions.ErrInvalidCookie},
		{"wrong key", wrong, sessions.ErrBadSignature},
		{"expired", old, sessions.ErrExpired},
	})

	// Go -> Flask.
	cases := g.goCookies(t, map[string]any{"k": "v"})
	var reqs []flaskReq
	for _, tc := range cases {
		reqs = append(reqs, flaskReq{Path: "/read", Cookie: ptr(tc.value)})
	}
	for i, r := range runFlask(t, reqs...) {
		fs := appSession(t, r)
		assert.Equal(t, cases[i].accept, fs["k"] == "v", "Flask read Go's %s cookie as %v", cases[i].name, fs)
	}
}

func TestFlaskInteropKeyRotation(t *testing.T) {
	t.Parallel()
	// Flask signed with the old key; Go has rotated (SecretKey new,
	// FallbackKeys old): it accepts the cookie and re-signs it with the new
	// key, which a Flask app on the new key alone accepts.
	out := runFlask(t, flaskReq{Secret: oldKey, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}})
	oldCookie := appCookie(t, out[0])
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask, SecretKey: testKey, FallbackKeys: []string{oldKey}})
	res := g.serve(t, oldCookie, nil)
	require.Equal(t, "v", res.Values["k"], "Go with the fallback key")
	require.True(t, res.Set, "Go did not re-sign the fallback-signed cookie")
	check := runFlask(t,
		flaskReq{Secret: testKey, Path: "/read", Cookie: ptr(res.Cookie)},
		flaskReq{Secret: testKey, Path: "/read", Cookie: ptr(oldCookie)},
	)
	assert.Equal(t, "v", appSession(t, check[0])["k"], "Flask on the new key rejected Go's re-signed cookie")
	assert.Empty(t, appSession(t, check[1]), "Flask on the new key alone accepted the old cookie")

	// Go still on the old key; Flask rotated with SECRET_KEY_FALLBACKS: it
	// reads Go's cookie and signs its change with the new key.
	goCookie := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask, SecretKey: oldKey}).encode(t, map[string]any{"n": 1})
	rot := runFlask(t, flaskReq{Secret: testKey, Fallbacks: []string{oldKey}, Method: "POST", Path: "/incr", Cookie: ptr(goCookie)})
	newGoSide := newGo(t, sessions.SessionConfig{Format: sessions.FormatFlask, SecretKey: testKey})
	got, err := newGoSide.decode(t, appCookie(t, rot[0]))
	require.NoError(t, err, "Go on the new key on Flask's rotated cookie")
	assert.Equal(t, json2, got["n"], "Go on the new key read Flask's rotated cookie as %v", got)
}
