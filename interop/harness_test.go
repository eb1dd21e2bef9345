package sessions

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Helpers shared by the interop tests (interop_*_test.go), which run the
// real Python peers in testdata/peers.

// Keys of the interop tests (MinKeyLength bytes or more).
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

// ixFlashes reads (and so consumes) the flashes of a cookie in Go.
func ixFlashes(t testing.TB, m *Middleware, cookie string) []Flash {
	var got []Flash
	ixServe(t, m, cookie, func(_ *http.Request, s *Session) { got = s.Flashes() })
	return got
}

// ixPeer runs a JSON-in, JSON-out peer script on a list of inputs and
// returns its list of outputs, failing unless it answered every input.
func ixPeer[In, Out any](t testing.TB, python, script string, in []In) []Out {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	text := runPeer(t, python, script, string(b))
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var out []Out
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("peer %s: bad output %q: %v", script, text, err)
	}
	if len(out) != len(in) {
		t.Fatalf("peer %s answered %d of %d inputs", script, len(out), len(in))
	}
	return out
}

// ixAppReq is a request to a Python web-app peer (Flask, Starlette): its
// secret, method and path.
type ixAppReq[R any] interface {
	*R
	appFields() (secret, method *string, path string)
}

// ixRunApp fills in the defaults of reqs in place (secret ixKey, method
// GET), sends them to one process of the peer app script and returns its
// responses, failing unless it answered each with 200.
func ixRunApp[R any, P ixAppReq[R]](t *testing.T, peer, python, script string, reqs []R) []flaskResp {
	t.Helper()
	for i := range reqs {
		secret, method, _ := P(&reqs[i]).appFields()
		if *secret == "" {
			*secret = ixKey
		}
		if *method == "" {
			*method = http.MethodGet
		}
	}
	out := ixPeer[R, flaskResp](t, python, script, reqs)
	for i, r := range out {
		if r.Status != http.StatusOK {
			_, method, path := P(&reqs[i]).appFields()
			t.Fatalf("%s %s %s: status %d, body %v", peer, *method, path, r.Status, r.Body)
		}
	}
	return out
}

// ixBadCookie is a cookie (or token) made by a peer that Go must reject
// with want.
type ixBadCookie struct {
	name, value string
	want        error
}

// ixWantRejected checks that m.Decode rejects each of the peer's bad cookies
// with its error (which must match ErrInvalidCookie too) and that the
// middleware gives a request carrying it an empty session.
func ixWantRejected(t *testing.T, m *Middleware, peer string, cases []ixBadCookie) {
	t.Helper()
	for _, tc := range cases {
		if _, err := m.Decode(tc.value); !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("Go Decode(%s %s cookie) = %v, want %v", peer, tc.name, err, tc.want)
		}
		if got := ixServe(t, m, tc.value, nil); len(got.Values) != 0 {
			t.Errorf("Go handler saw %v from a %s %s cookie, want an empty session", got.Values, peer, tc.name)
		}
	}
}

// ixGoCookie is a cookie (or token) made in Go for a peer to read, and
// whether the peer must accept it.
type ixGoCookie struct {
	name, value string
	accept      bool
}

// ixGoCookies encodes values with m (from ixNew with only a Format) four
// ways: good, tampered, under ixWrong, and issued 15 days ago (past the
// peers' MaxAge); a peer must accept only the good one.
func ixGoCookies(t *testing.T, m *Middleware, values map[string]any) []ixGoCookie {
	t.Helper()
	good, err := m.Encode(values)
	if err != nil {
		t.Fatal(err)
	}
	old, err := m.EncodeAt(values, ixDaysAgo(15))
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := ixNew(t, SessionConfig{Format: m.cfg.Format, SecretKey: ixWrong}).Encode(values)
	if err != nil {
		t.Fatal(err)
	}
	return []ixGoCookie{
		{"good", good, true},
		{"tampered", ixTamper(good), false},
		{"wrong key", wrong, false},
		{"expired", old, false},
	}
}

// ixTamper changes one character in the middle of a cookie value (inside
// the payload for every format), keeping it in the same alphabet.
func ixTamper(v string) string {
	i := len(v) / 3
	c := byte('A')
	if v[i] == 'A' {
		c = 'B'
	}
	return v[:i] + string(c) + v[i+1:]
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

// ixDaysAgo is the wall-clock time n days ago: the Python peers check ages
// against their own clocks.
func ixDaysAgo(n int) time.Time { return time.Now().Add(-time.Duration(n) * 24 * time.Hour) }

// JSON numbers as the strict decoder returns them.
var (
	json1  = jsonNum("1")
	json2  = jsonNum("2")
	json3  = jsonNum("3")
	json41 = jsonNum("41")
	json42 = jsonNum("42")
)

func jsonNum(s string) json.Number { return json.Number(s) }
