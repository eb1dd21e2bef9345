package sessions

import (
	"net/http"
	"reflect"
	"testing"
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
func runStarlette(t *testing.T, reqs ...starletteReq) []flaskResp {
	t.Helper()
	return ixRunApp(t, "starlette", "/usr/bin/python3", starlettePeer, reqs)
}

func TestStarletteInteropRoundTrip(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatStarlette})
	in := map[string]any{"user": "ann", "n": 41, "list": []any{1, "two"}, "nested": map[string]any{"é": "ü\u2028"}}
	out := runStarlette(t, starletteReq{Method: "POST", Path: "/set", JSON: in})
	pyCookie := flaskCookie(t, out[0])

	// Starlette -> Go, as sent and in double quotes.
	want := map[string]any{"user": "ann", "n": json41, "list": []any{json1, "two"}, "nested": map[string]any{"é": "ü\u2028"}}
	for _, c := range []string{pyCookie, `"` + pyCookie + `"`} {
		if got := ixServe(t, m, c, nil); !reflect.DeepEqual(got.Values, want) {
			t.Errorf("Go read Starlette's cookie %q as %#v, want %#v", c, got.Values, want)
		}
	}

	// Go changes it and logs the user in; Starlette reads it (plain and
	// quoted), and its own change comes back to Go with the login intact.
	goRes := ixServe(t, m, pyCookie, func(r *http.Request, s *Session) {
		if err := LoginKeep(r.Context(), "ann-id", "user", "n", "list", "nested"); err != nil {
			t.Errorf("LoginKeep: %v", err)
		}
		s.Set("n", 42)
	})
	back := runStarlette(t,
		starletteReq{Path: "/read", Cookie: ptr(goRes.Cookie)},
		starletteReq{Path: "/read", Cookie: ptr(goRes.Cookie), Quote: true},
		starletteReq{Method: "POST", Path: "/incr", Cookie: ptr(goRes.Cookie)},
	)
	for i := range 2 {
		s := appSession(t, back[i])
		if s["n"] != json42 || s["user"] != "ann" || ixJSON(t, s["nested"]) != ixJSON(t, in["nested"]) {
			t.Errorf("Starlette read Go's cookie (quoted=%v) as %v", i == 1, s)
		}
	}
	again := ixServe(t, m, flaskCookie(t, back[2]), nil)
	if again.Values["n"] != jsonNum("43") || again.UserID != "ann-id" {
		t.Errorf("Go read Starlette's change as %v, user %q; want n=43, user ann-id", again.Values, again.UserID)
	}

	// Starlette clearing the session ends it on Go too.
	cl := runStarlette(t, starletteReq{Method: "POST", Path: "/clear", Cookie: ptr(goRes.Cookie)})
	if cl[0].Cookie == nil || *cl[0].Cookie != "" {
		t.Errorf("Starlette did not delete the cleared session: %v", cl[0].Cookie)
	}
}

func TestStarletteInteropRejects(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatStarlette})
	ago := ixDaysAgo(15).Unix()
	set := map[string]any{"k": "v"}
	out := runStarlette(t,
		starletteReq{Method: "POST", Path: "/set", JSON: set},
		starletteReq{Secret: ixWrong, Method: "POST", Path: "/set", JSON: set},
		starletteReq{Now: &ago, Method: "POST", Path: "/set", JSON: set},
	)
	good, wrongKey, old := flaskCookie(t, out[0]), flaskCookie(t, out[1]), flaskCookie(t, out[2])
	if _, err := m.Decode(good); err != nil {
		t.Fatalf("Go rejected Starlette's good cookie: %v", err)
	}
	ixWantRejected(t, m, "Starlette", []ixBadCookie{
		{"tampered", ixTamper(good), ErrInvalidCookie},
		{"wrong key", wrongKey, ErrBadSignature},
		{"expired", old, ErrExpired},
	})

	cases := ixGoCookies(t, m, set)
	var reqs []starletteReq
	for _, tc := range cases {
		reqs = append(reqs, starletteReq{Path: "/read", Cookie: ptr(tc.value)})
	}
	for i, r := range runStarlette(t, reqs...) {
		if accepted := appSession(t, r)["k"] == "v"; accepted != cases[i].accept {
			t.Errorf("Starlette read Go's %s cookie as %v, want accepted=%v", cases[i].name, r.Body, cases[i].accept)
		}
	}
}

func TestStarletteInteropKeyRotation(t *testing.T) {
	t.Parallel()
	out := runStarlette(t, starletteReq{Secret: ixOld, Method: "POST", Path: "/set", JSON: map[string]any{"k": "v"}})
	m := ixNew(t, SessionConfig{Format: FormatStarlette, SecretKey: ixKey, FallbackKeys: []string{ixOld}})
	res := ixServe(t, m, flaskCookie(t, out[0]), nil)
	if res.Values["k"] != "v" || !res.Set {
		t.Fatalf("Go with the fallback key: values %v, re-signed %v", res.Values, res.Set)
	}
	check := runStarlette(t,
		starletteReq{Path: "/read", Cookie: ptr(res.Cookie)},
		starletteReq{Path: "/read", Cookie: out[0].Cookie},
	)
	if s := appSession(t, check[0]); s["k"] != "v" {
		t.Errorf("Starlette on the new key rejected Go's re-signed cookie: %v", s)
	}
	if s := appSession(t, check[1]); len(s) != 0 {
		t.Errorf("Starlette on the new key accepted the old cookie: %v", s)
	}
}
