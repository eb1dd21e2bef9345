package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// --- Servers and a browser ----------------------------------------------
//
// The cross-process tests run each framework as a real HTTP server in its
// own process (a peer app under testdata/peers that binds 127.0.0.1 on a
// free port and prints {"port": N, ...} as its first line), the Go side as
// a real net/http server on another port, and one client with one cookie
// jar going back and forth between them, as a browser would. Every host
// name the client dials is 127.0.0.1, so that both servers can be reached
// under one name (cookies ignore ports) and Domain cookies can be tested.

// appHost is the host name both servers are reached under.
const appHost = "app.test"

// peerServer is a running peer app.
type peerServer struct {
	base string         // http://app.test:PORT
	port int            // the port it bound
	info map[string]any // the rest of its first line
}

// startPeer runs `python script config` (config as JSON) and returns the
// server once it printed its port. The process is killed when the test
// ends; its standard error is shown if the test fails.
func startPeer(t *testing.T, python, script string, config any) *peerServer {
	t.Helper()
	cfg, err := json.Marshal(config)
	require.NoError(t, err)
	cmd := exec.Command(python, script, string(cfg))
	var stderr lockedBuffer // written by exec while the test reads it
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "start %s %s", python, script)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", script, stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		line <- l
		io.Copy(io.Discard, r)
	}()
	var first string
	select {
	case first = <-line:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start within 60s; stderr:\n%s", script, stderr.String())
	}
	var info map[string]any
	require.NoError(t, decodeJSON(first, &info), "%s printed %q first; stderr:\n%s", script, first, stderr.String())
	port, err := info["port"].(json.Number).Int64()
	require.NoError(t, err, "%s printed no port: %q", script, first)
	addr := net.JoinHostPort("127.0.0.1", strconv.FormatInt(port, 10))
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		require.Less(t, time.Since(start), 30*time.Second, "%s does not accept connections on %s; stderr:\n%s", script, addr, stderr.String())
	}
	return &peerServer{base: "http://" + appHost + ":" + strconv.FormatInt(port, 10), port: int(port), info: info}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// goServer is the Go side as a real server: g's middleware around mux.
type goServer struct {
	*goSide
	base string
}

// startGo serves g's middleware around mux on a free port of 127.0.0.1.
func startGo(t *testing.T, g *goSide, mux http.Handler) *goServer {
	t.Helper()
	srv := httptest.NewServer(g.Handler(mux))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return &goServer{goSide: g, base: "http://" + appHost + ":" + port}
}

// goApp is the Go application of the cross-process tests: a few routes
// that log in and out and read and write the session, answering JSON.
//
//	POST /go/login/{id}   Login
//	POST /go/logout       Logout
//	GET  /go/whoami       {"user": UserID or null, "keys": [session keys]}
//	POST /go/set/{k}/{v}  Set(k, v) (v as a string)
func goApp(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /go/login/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), r.PathValue("id")); err != nil {
			t.Errorf("Go Login: %v", err)
			return
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("POST /go/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Logout(r.Context()); err != nil {
			t.Errorf("Go Logout: %v", err)
			return
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /go/whoami", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		var user any
		if id, ok := sessions.UserID(r.Context()); ok {
			user = id
		}
		writeJSON(w, map[string]any{"user": user, "keys": s.Keys()})
	})
	mux.HandleFunc("POST /go/set/{k}/{v}", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		s.Set(r.PathValue("k"), r.PathValue("v"))
		writeJSON(w, map[string]any{"ok": true})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// browser is one client with one cookie jar, sending every request to
// 127.0.0.1 whatever the host name, with fixed User-Agent and, when set,
// X-Forwarded-For headers (a browser behind one proxy).
type browser struct {
	t      *testing.T
	client *http.Client
	jar    *browserJar
	ua     string
	xff    string
}

// browserUA is the browser's User-Agent: a quote in it changes how Python
// writes its repr, which Flask-Login's session protection hashes.
const browserUA = "Mozilla/5.0 (ctxsession interop; it's a test)"

func newBrowser(t *testing.T) *browser {
	jar := &browserJar{}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, jar: jar, ua: browserUA, client: &http.Client{
		Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is a response the browser got.
type reply struct {
	Status     int
	Body       map[string]any // the JSON object answered, if any
	SetCookies []*http.Cookie // as the response set them
}

// do sends method base+path and returns the reply.
func (b *browser) do(method, url string) reply {
	b.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(b.t, err)
	req.Header.Set("User-Agent", b.ua)
	if b.xff != "" {
		req.Header.Set("X-Forwarded-For", b.xff)
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err, "%s %s", method, url)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	r := reply{Status: resp.StatusCode, SetCookies: resp.Cookies()}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(b.t, decodeJSON(string(raw), &r.Body), "%s %s answered %q", method, url, raw)
	}
	return r
}

// ok is do that requires a 200 answer.
func (b *browser) ok(method, url string) map[string]any {
	b.t.Helper()
	r := b.do(method, url)
	require.Equal(b.t, http.StatusOK, r.Status, "%s %s: %v", method, url, r.Body)
	return r.Body
}

// cookies are the jar's cookies called name for url, as the browser would
// send them there.
func (b *browser) cookies(url, name string) []string {
	u, err := neturl.Parse(url)
	require.NoError(b.t, err)
	var out []string
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			out = append(out, c.Value)
		}
	}
	return out
}

// setCookie returns the cookie called name a reply set, or nil.
func (r reply) setCookie(name string) *http.Cookie {
	for _, c := range r.SetCookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// browserJar is a cookie jar that tells cookies apart as browsers do
// (Chromium's CanonicalCookie, Firefox's cookie service): by name, path
// and domain, where a host-only cookie's domain is the host and a Domain
// cookie's is the domain with a leading dot, so a host-only "session" and
// a "session" with Domain=app.test are two cookies, both sent.
// (net/http/cookiejar, following RFC 6265 to the letter, would merge them.)
type browserJar struct {
	mu      sync.Mutex
	cookies map[string]*jarCookie
	seq     int
}

type jarCookie struct {
	name, value string
	domain      string // the host, or "." + Domain
	path        string
	expires     time.Time // zero: a session cookie
	secure      bool
	created     int
}

func (j *browserJar) SetCookies(u *neturl.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[string]*jarCookie{}
	}
	host := strings.ToLower(u.Hostname())
	for _, c := range cs {
		domain := host
		if c.Domain != "" {
			d := strings.TrimPrefix(strings.ToLower(c.Domain), ".")
			if host != d && !strings.HasSuffix(host, "."+d) {
				continue // not for this host: browsers ignore it
			}
			domain = "." + d
		}
		path := c.Path
		if !strings.HasPrefix(path, "/") {
			path = "/"
			if i := strings.LastIndexByte(u.Path, '/'); i > 0 {
				path = u.Path[:i]
			}
		}
		key := c.Name + "\x00" + domain + "\x00" + path
		var expires time.Time
		switch {
		case c.MaxAge < 0:
			delete(j.cookies, key)
			continue
		case c.MaxAge > 0:
			expires = time.Now().Add(time.Duration(c.MaxAge) * time.Second)
		case !c.Expires.IsZero():
			if !c.Expires.After(time.Now()) {
				delete(j.cookies, key)
				continue
			}
			expires = c.Expires
		}
		created := j.seq
		if old, ok := j.cookies[key]; ok {
			created = old.created // a replaced cookie keeps its place
		}
		j.seq++
		j.cookies[key] = &jarCookie{name: c.Name, value: c.Value, domain: domain, path: path, expires: expires, secure: c.Secure, created: created}
	}
}

func (j *browserJar) Cookies(u *neturl.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	host := strings.ToLower(u.Hostname())
	path := u.Path
	if path == "" {
		path = "/"
	}
	var match []*jarCookie
	for key, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(time.Now()) {
			delete(j.cookies, key)
			continue
		}
		if d, ok := strings.CutPrefix(c.domain, "."); ok {
			if host != d && !strings.HasSuffix(host, "."+d) {
				continue
			}
		} else if host != c.domain {
			continue
		}
		if path != c.path && !(strings.HasPrefix(path, c.path) && (strings.HasSuffix(c.path, "/") || path[len(c.path)] == '/')) {
			continue
		}
		if c.secure && u.Scheme != "https" {
			continue
		}
		match = append(match, c)
	}
	// Longer paths first, then older cookies first (RFC 6265, 5.4).
	slices.SortFunc(match, func(a, b *jarCookie) int {
		if len(a.path) != len(b.path) {
			return len(b.path) - len(a.path)
		}
		return a.created - b.created
	})
	out := make([]*http.Cookie, len(match))
	for i, c := range match {
		out[i] = &http.Cookie{Name: c.name, Value: c.value}
	}
	return out
}
