package sessions

import (
	"net/http"
	"reflect"
	"testing"
	"time"
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

type flaskResp struct {
	Status int     `json:"status"`
	Body   any     `json:"body"`
	Cookie *string `json:"cookie"`
}

func (r *flaskReq) appFields() (secret, method *string, path string) {
	return &r.Secret, &r.Method, r.Path
}

// runFlask sends the requests to one Flask process and returns the responses.
func runFlask(t *testing.T, reqs ...flaskReq) []flaskResp {
	t.Helper()
	return ixRunApp(t, "flask", "python3", flaskPeer, reqs)
}

// flaskCookie returns the cookie Flask set, failing if it set none.
func flaskCookie(t *testing.T, r flaskResp) string {
	t.Helper()
	if r.Cookie == nil || *r.Cookie == "" {
		t.Fatalf("Flask set no session cookie (body %v)", r.Body)
	}
	return *r.Cookie
}

func ptr[T any](v T) *T { return &v }

// appSession is the "session" member of a response of the Flask or the
// Starlette peer.
func appSession(t *testing.T, r flaskResp) map[string]any {
	t.Helper()
	body, ok := r.Body.(map[string]any)
	if !ok {
		t.Fatalf("peer app body %v, want an object", r.Body)
	}
	s, _ := body["session"].(map[string]any)
	return s
}

func TestFlaskInteropTaggedValuesFlaskToGo(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatFlask})
	cookie := flaskCookie(t, runFlask(t, flaskReq{Method: "POST", Path: "/rich"})[0])

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
	got := ixServe(t, m, cookie, nil)
	if !reflect.DeepEqual(got.Values, want) {
		t.Errorf("Go read Flask's session\n got %#v\nwant %#v", got.Values, want)
	}
	// Middleware.Decode, outside a request, reads the same.
	dec, err := m.Decode(cookie)
	if err != nil || !reflect.DeepEqual(dec, want) {
		t.Errorf("Decode = %#v, %v; want %#v", dec, err, want)
	}
	if w, ok := GetAs[time.Time](&Session{values: got.Values, scheme: flaskScheme{}}, "when"); !ok || !w.Equal(want["when"].(time.Time)) {
		t.Errorf("GetAs[time.Time](when) = %v, %v", w, ok)
	}

	// Go changes one key and writes the session back as plain JSON; Flask
	// reads every value, and the dict whose key looks like a tag is still
	// a dict.
	back := ixServe(t, m, cookie, func(_ *http.Request, s *Session) { s.Set("go", "yes") })
	if !back.Set {
		t.Fatal("Go did not write the changed session")
	}
	fs := appSession(t, runFlask(t, flaskReq{Path: "/read", Cookie: ptr(back.Cookie)})[0])
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
		ReservedKey: map[string]any{"dict": map[string]any{"c": fs[ReservedKey].(map[string]any)["dict"].(map[string]any)["c"]}},
	}
	if ixJSON(t, fs) != ixJSON(t, wantFlask) {
		t.Errorf("Flask read Go's session\n got %s\nwant %s", ixJSON(t, fs), ixJSON(t, wantFlask))
	}
}

func TestFlaskInteropGoToFlask(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatFlask})
	first := ixServe(t, m, "", func(_ *http.Request, s *Session) {
		s.Set("name", "gopher")
		s.Set("n", 41)
		s.Set("cart", []any{"apple", map[string]any{" b": "not bytes"}})
		s.AddFlash("info", "saved")
		s.AddFlash("warning", "<i>careful</i>")
	})
	if !first.Set {
		t.Fatal("Go set no cookie")
	}
	out := runFlask(t,
		flaskReq{Path: "/read", Cookie: ptr(first.Cookie)},
		flaskReq{Method: "POST", Path: "/incr", Cookie: ptr(first.Cookie)},
		flaskReq{Path: "/flashes", Cookie: ptr(first.Cookie)},
	)
	fs := appSession(t, out[0])
	if fs["name"] != "gopher" || fs["n"] != json41 {
		t.Errorf("Flask read name=%v n=%v, want gopher 41", fs["name"], fs["n"])
	}
	if got, want := ixJSON(t, fs["cart"]), `{"list":["apple",{"dict":{" b":"not bytes"}}]}`; got != want {
		t.Errorf("Flask read cart %s, want %s", got, want)
	}
	if got, want := ixJSON(t, out[2].Body), `[["info","saved"],["warning","\u003ci\u003ecareful\u003c/i\u003e"]]`; got != want {
		t.Errorf("Flask get_flashed_messages = %s, want %s", got, want)
	}

	// Flask's change comes back to Go.
	back := ixServe(t, m, flaskCookie(t, out[1]), nil)
	if back.Values["n"] != json42 || back.Values["name"] != "gopher" {
		t.Errorf("Go read Flask's update: %v", back.Values)
	}

	// Flask's flash() is read as our flashes, Markup included.
	fl := runFlask(t, flaskReq{Method: "POST", Path: "/flash", JSON: [][2]string{{"error", "boom"}, {"markup", "<b>hi</b>"}}})
	got := ixFlashes(t, m, flaskCookie(t, fl[0]))
	want := []Flash{{"error", "boom"}, {"markup", "<b>hi</b>"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Go read Flask's flashes %v, want %v", got, want)
	}
}

func TestFlaskInteropLogin(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatFlask})

	// Logged in on Flask (Flask-Login's login_user) -> logged in on Go.
	in := runFlask(t, flaskReq{Method: "POST", Path: "/login/7"})
	pyCookie := flaskCookie(t, in[0])
	var uid string
	var ok bool
	res := ixServe(t, m, pyCookie, func(r *http.Request, s *Session) {
		uid, ok = UserID(r.Context())
		s.Set("seen_by_go", true)
	})
	if uid != "7" || !ok {
		t.Errorf("Go UserID = %q, %v; want 7, true", uid, ok)
	}
	if _, leaked := res.Values["_user_id"]; leaked {
		t.Errorf("_user_id is a reserved key but Go handlers see it: %v", res.Values)
	}
	// Flask-Login's own keys it does not reserve survive the round trip.
	if _, kept := res.Values["_id"]; !kept {
		t.Errorf("Go dropped Flask-Login's _id: %v", res.Values)
	}
	who := runFlask(t, flaskReq{Path: "/whoami", Cookie: ptr(res.Cookie)}, flaskReq{Path: "/read", Cookie: ptr(res.Cookie)})
	if got := ixJSON(t, who[0].Body); got != `{"authenticated":true,"user":"7"}` {
		t.Errorf("Flask after Go's write: %s", got)
	}
	if fresh := who[1].Body.(map[string]any)["fresh"]; fresh != true {
		t.Errorf("Flask _fresh = %v after Go's write, want true", fresh)
	}

	// Logged in on Go (Login) -> logged in on Flask, and fresh.
	goIn := ixServe(t, m, "", func(r *http.Request, _ *Session) {
		if err := Login(r.Context(), "go-user"); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	out := runFlask(t,
		flaskReq{Path: "/whoami", Cookie: ptr(goIn.Cookie)},
		flaskReq{Path: "/read", Cookie: ptr(goIn.Cookie)},
		flaskReq{Method: "POST", Path: "/logout", Cookie: ptr(goIn.Cookie)},
	)
	if got := ixJSON(t, out[0].Body); got != `{"authenticated":true,"user":"go-user"}` {
		t.Errorf("Flask whoami after Go Login: %s", got)
	}
	if fresh := out[1].Body.(map[string]any)["fresh"]; fresh != true {
		t.Errorf("Flask _fresh = %v after Go Login, want true", fresh)
	}
	// Logged out on Flask -> anonymous on Go.
	if got := ixServe(t, m, flaskCookie(t, out[2]), nil); got.UserID != "" {
		t.Errorf("Go UserID after Flask logout = %q, want anonymous", got.UserID)
	}
}

func TestFlaskInteropRejects(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatFlask})
	ago := ixDaysAgo(15).Unix()
	out := runFlask(t,
		flaskReq{Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
		flaskReq{Secret: ixWrong, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
		flaskReq{Now: &ago, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}},
	)
	good, wrongKey, old := flaskCookie(t, out[0]), flaskCookie(t, out[1]), flaskCookie(t, out[2])

	// Flask -> Go.
	if _, err := m.Decode(good); err != nil {
		t.Fatalf("Go rejected Flask's good cookie: %v", err)
	}
	ixWantRejected(t, m, "Flask", []ixBadCookie{
		{"tampered", ixTamper(good), ErrInvalidCookie},
		{"wrong key", wrongKey, ErrBadSignature},
		{"expired", old, ErrExpired},
	})

	// Go -> Flask.
	cases := ixGoCookies(t, m, map[string]any{"k": "v"})
	var reqs []flaskReq
	for _, tc := range cases {
		reqs = append(reqs, flaskReq{Path: "/read", Cookie: ptr(tc.value)})
	}
	for i, r := range runFlask(t, reqs...) {
		fs := appSession(t, r)
		if accepted := fs["k"] == "v"; accepted != cases[i].accept {
			t.Errorf("Flask read Go's %s cookie as %v, want accepted=%v", cases[i].name, fs, cases[i].accept)
		}
	}
}

func TestFlaskInteropKeyRotation(t *testing.T) {
	t.Parallel()
	// Flask signed with the old key; Go has rotated (SecretKey new,
	// FallbackKeys old): it accepts the cookie and re-signs it with the new
	// key, which a Flask app on the new key alone accepts.
	out := runFlask(t, flaskReq{Secret: ixOld, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}})
	oldCookie := flaskCookie(t, out[0])
	m := ixNew(t, SessionConfig{Format: FormatFlask, SecretKey: ixKey, FallbackKeys: []string{ixOld}})
	res := ixServe(t, m, oldCookie, nil)
	if res.Values["k"] != "v" || !res.Set {
		t.Fatalf("Go with the fallback key: values %v, re-signed %v", res.Values, res.Set)
	}
	check := runFlask(t,
		flaskReq{Secret: ixKey, Path: "/read", Cookie: ptr(res.Cookie)},
		flaskReq{Secret: ixKey, Path: "/read", Cookie: ptr(oldCookie)},
	)
	if fs := appSession(t, check[0]); fs["k"] != "v" {
		t.Errorf("Flask on the new key rejected Go's re-signed cookie: %v", fs)
	}
	if fs := appSession(t, check[1]); len(fs) != 0 {
		t.Errorf("Flask on the new key alone accepted the old cookie: %v", fs)
	}

	// Go still on the old key; Flask rotated with SECRET_KEY_FALLBACKS: it
	// reads Go's cookie and signs its change with the new key.
	oldGo := ixNew(t, SessionConfig{Format: FormatFlask, SecretKey: ixOld})
	goCookie, err := oldGo.Encode(map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	rot := runFlask(t, flaskReq{Secret: ixKey, Fallbacks: []string{ixOld}, Method: "POST", Path: "/incr", Cookie: ptr(goCookie)})
	newGo := ixNew(t, SessionConfig{Format: FormatFlask, SecretKey: ixKey})
	if got, err := newGo.Decode(flaskCookie(t, rot[0])); err != nil || got["n"] != json2 {
		t.Errorf("Go on the new key read Flask's rotated cookie as %v, %v; want n=2", got, err)
	}
}
