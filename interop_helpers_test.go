package sessions

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Helpers of the format tests (format_*_test.go). The interop tests, which
// run the real Python peers, live in their own module, interop/.

// Keys of the format tests (MinKeyLength bytes or more).
const (
	ixKey   = "interop-secret-key-0123456789abcdef"
	ixOld   = "interop-older-key-0123456789abcdef"
	ixWrong = "interop-wrong-key-0123456789abcdefg"
)

// ixNew returns a Middleware for cfg, with ixKey when cfg has no key.
func ixNew(t testing.TB, cfg SessionConfig) *Middleware {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = ixKey
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%v): %v", cfg.Format, err)
	}
	return m
}

// ixResult is what one request through the Go middleware produced.
type ixResult struct {
	Values  map[string]any // the session the handler saw (before act)
	UserID  string
	Flashes []Flash
	Cookie  string // the session cookie set on the response
	Set     bool   // whether a session cookie (or its deletion) was sent
	Deleted bool
}

// ixServe sends one request with the session cookie value (none when
// empty) through m and runs act, if not nil, on the session.
func ixServe(t testing.TB, m *Middleware, cookie string, act func(r *http.Request, s *Session)) ixResult {
	t.Helper()
	var res ixResult
	h := m.Handler(WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) {
		res.Values = map[string]any{}
		for _, k := range s.Keys() {
			res.Values[k], _ = s.Get(k)
		}
		res.UserID = s.UserID()
		if act != nil {
			act(r, s)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", m.cfg.CookieName+"="+cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("Go handler: status %d, body %q", w.Code, w.Body.String())
	}
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Go wrote an unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name == m.cfg.CookieName {
			res.Set, res.Cookie, res.Deleted = true, c.Value, c.MaxAge < 0
		}
	}
	return res
}

// ixJSON is the compact JSON of v, for comparing decoded values in messages
// and assertions.
func ixJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// JSON numbers as the strict decoder returns them.
var (
	json1  = jsonNum("1")
	json2  = jsonNum("2")
	json42 = jsonNum("42")
)

func jsonNum(s string) json.Number { return json.Number(s) }
