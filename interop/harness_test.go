package interop

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// The request harness of the module: the Go side (a Middleware and one
// request through it) and the Python side (running a peer script), shared
// by every test file.

// The interpreters. python3 (first on PATH) has Flask 3.1 and
// itsdangerous 2.2; Debian's /usr/bin/python3 has Debian's packages
// (Starlette, httpx, PyJWT, cryptography). .ci/provision.sh installs both
// sets.
const (
	python3      = "python3"
	debianPython = "/usr/bin/python3"
)

// Keys of the tests (MinKeyLength bytes or more).
const (
	testKey  = "interop-secret-key-0123456789abcdef"
	oldKey   = "interop-older-key-0123456789abcdef"
	wrongKey = "interop-wrong-key-0123456789abcdefg"
)

// goSide is a Middleware under test with the configuration it was built
// from.
type goSide struct {
	*sessions.Middleware
	cfg sessions.SessionConfig // SecretKey and CookieName filled in
}

// newGo returns the Go side for cfg, with testKey when cfg has no key.
func newGo(t testing.TB, cfg sessions.SessionConfig) *goSide {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = testKey
	}
	if cfg.CookieName == "" {
		cfg.CookieName = sessions.DefaultCookieName
	}
	m, err := sessions.New(cfg)
	require.NoError(t, err, "New(%v)", cfg.Format)
	return &goSide{Middleware: m, cfg: cfg}
}

// fixedClock is a SessionConfig.Now that always returns at.
func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

// result is what one request through the Go middleware produced.
type result struct {
	Values     map[string]any // the session the handler saw (before act)
	UserID     string
	Created    time.Time
	Cookie     string   // the session cookie set on the response
	Set        bool     // whether a session cookie (or its deletion) was sent
	Deleted    bool     // whether that was a deletion
	SetCookies []string // every Set-Cookie line of the response
}

// serve sends one request with the session cookie value (none when empty)
// through g and runs act, if not nil, on the session.
func (g *goSide) serve(t testing.TB, cookie string, act func(r *http.Request, s *sessions.Session)) result {
	t.Helper()
	var res result
	h := g.Handler(sessions.WithSession(func(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
		res.Values = map[string]any{}
		for _, k := range s.Keys() {
			res.Values[k], _ = s.Get(k)
		}
		res.UserID, res.Created = s.UserID(), s.Created()
		if act != nil {
			act(r, s)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", g.cfg.CookieName+"="+cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusNoContent, w.Code, "Go handler: body %q", w.Body.String())
	res.SetCookies = w.Result().Header.Values("Set-Cookie")
	for _, line := range res.SetCookies {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, "Go wrote an unparsable Set-Cookie %q", line)
		if c.Name == g.cfg.CookieName {
			res.Set, res.Cookie, res.Deleted = true, c.Value, c.MaxAge < 0
		}
	}
	return res
}

// flashes reads (and so consumes) the flashes of a cookie in Go.
func (g *goSide) flashes(t testing.TB, cookie string) []sessions.Flash {
	t.Helper()
	var got []sessions.Flash
	g.serve(t, cookie, func(_ *http.Request, s *sessions.Session) { got = s.Flashes() })
	return got
}

// decode is Middleware.Decode under the test's context.
func (g *goSide) decode(t testing.TB, value string) (map[string]any, error) {
	return g.Decode(t.Context(), value)
}

// encode is Middleware.Encode, failing the test on an error.
func (g *goSide) encode(t testing.TB, values map[string]any) string {
	t.Helper()
	v, err := g.Encode(values)
	require.NoError(t, err, "Encode")
	return v
}

// encodeAt encodes values as issued at the given time: with g's
// configuration and a clock standing at that time.
func (g *goSide) encodeAt(t testing.TB, values map[string]any, at time.Time) string {
	t.Helper()
	cfg := g.cfg
	cfg.Now = fixedClock(at)
	return newGo(t, cfg).encode(t, values)
}

// badCookie is a cookie (or token) made by a peer that Go must reject with
// want.
type badCookie struct {
	name, value string
	want        error
}

// wantRejected checks that Decode rejects each of the peer's bad cookies
// with its error (which must match ErrInvalidCookie too) and that the
// middleware gives a request carrying it an empty session.
func (g *goSide) wantRejected(t *testing.T, peer string, cases []badCookie) {
	t.Helper()
	for _, tc := range cases {
		_, err := g.decode(t, tc.value)
		assert.ErrorIs(t, err, tc.want, "Go Decode(%s %s cookie)", peer, tc.name)
		assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "Go Decode(%s %s cookie)", peer, tc.name)
		got := g.serve(t, tc.value, nil)
		assert.Empty(t, got.Values, "Go handler on a %s %s cookie: want an empty session", peer, tc.name)
	}
}

// goCookie is a cookie (or token) made in Go for a peer to read, and
// whether the peer must accept it.
type goCookie struct {
	name, value string
	accept      bool
}

// goCookies encodes values with g (from newGo with only a Format) four
// ways: good, tampered, under wrongKey, and issued 15 days ago (past the
// peers' MaxAge); a peer must accept only the good one.
func (g *goSide) goCookies(t *testing.T, values map[string]any) []goCookie {
	t.Helper()
	good := g.encode(t, values)
	wrong := newGo(t, sessions.SessionConfig{Format: g.cfg.Format, SecretKey: wrongKey}).encode(t, values)
	return []goCookie{
		{"good", good, true},
		{"tampered", tamper(good), false},
		{"wrong key", wrong, false},
		{"expired", g.encodeAt(t, values, daysAgo(15)), false},
	}
}

// tamper changes one character in the middle of a cookie value (inside the
// payload for every format), keeping it in the same alphabet.
func tamper(v string) string {
	i := len(v) / 3
	c := byte('A')
	if v[i] == 'A' {
		c = 'B'
	}
	return v[:i] + string(c) + v[i+1:]
}

// daysAgo is the wall-clock time n days ago: the Python peers check ages
// against their own clocks.
func daysAgo(n int) time.Time { return time.Now().Add(-time.Duration(n) * 24 * time.Hour) }

// runPeer runs `python script args...` with stdin as its standard input and
// returns its standard output with surrounding white space trimmed. python
// is python3 or debianPython, script a path under testdata/peers. A missing
// interpreter, a missing module or a failing script is a test failure
// (never a skip): these tests prove interoperability with the real Python
// libraries.
func runPeer(t testing.TB, python, script, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	require.NoError(t, err, "peer %s %s %s\nstderr:\n%s\nstdout:\n%s",
		python, script, strings.Join(args, " "), stderr.String(), stdout.String())
	return strings.TrimSpace(stdout.String())
}

// peerJSON runs a JSON-in, JSON-out peer script on a list of inputs and
// returns its list of outputs, failing unless it answered every input.
func peerJSON[In, Out any](t testing.TB, python, script string, in []In) []Out {
	t.Helper()
	b, err := json.Marshal(in)
	require.NoError(t, err)
	text := runPeer(t, python, script, string(b))
	var out []Out
	require.NoError(t, decodeJSON(text, &out), "peer %s: bad output %q", script, text)
	require.Len(t, out, len(in), "peer %s answered %d of %d inputs", script, len(out), len(in))
	return out
}

// decodeJSON parses JSON text into v, numbers kept exact as json.Number.
func decodeJSON(text string, v any) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	return dec.Decode(v)
}

// appReq is a request to a Python web-app peer (Flask, Starlette): its
// secret, method and path.
type appReq[R any] interface {
	*R
	appFields() (secret, method *string, path string)
}

// appResp is a web-app peer's response.
type appResp struct {
	Status int     `json:"status"`
	Body   any     `json:"body"`
	Cookie *string `json:"cookie"` // "" when the app deleted it, nil when it sent none
}

// runApp fills in the defaults of reqs in place (secret testKey, method
// GET), sends them to one process of the peer app script and returns its
// responses, failing unless it answered each with 200.
func runApp[R any, P appReq[R]](t *testing.T, peer, python, script string, reqs []R) []appResp {
	t.Helper()
	for i := range reqs {
		secret, method, _ := P(&reqs[i]).appFields()
		if *secret == "" {
			*secret = testKey
		}
		if *method == "" {
			*method = http.MethodGet
		}
	}
	out := peerJSON[R, appResp](t, python, script, reqs)
	for i, r := range out {
		_, method, path := P(&reqs[i]).appFields()
		require.Equal(t, http.StatusOK, r.Status, "%s %s %s: body %v", peer, *method, path, r.Body)
	}
	return out
}

// appCookie returns the session cookie a web-app peer set, failing if it
// set none.
func appCookie(t *testing.T, r appResp) string {
	t.Helper()
	require.False(t, r.Cookie == nil || *r.Cookie == "", "the peer app set no session cookie (body %v)", r.Body)
	return *r.Cookie
}

// appSession is the "session" member of a web-app peer's response.
func appSession(t *testing.T, r appResp) map[string]any {
	t.Helper()
	body, ok := r.Body.(map[string]any)
	require.True(t, ok, "peer app body %v, want an object", r.Body)
	s, _ := body["session"].(map[string]any)
	return s
}

func ptr[T any](v T) *T { return &v }

// compactJSON is the compact JSON of v, for comparing decoded values.
func compactJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err, "marshal %#v", v)
	return string(b)
}

// JSON numbers as the strict decoder returns them.
var (
	json1  = json.Number("1")
	json2  = json.Number("2")
	json3  = json.Number("3")
	json41 = json.Number("41")
	json42 = json.Number("42")
	json43 = json.Number("43")
)
