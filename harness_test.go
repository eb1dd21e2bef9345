package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// regressionKey is the key of the tests that pin fixed regressions.
const regressionKey = "0123456789abcdef0123456789abcdef"

// testClock is a settable clock for SessionConfig.Now, safe for concurrent
// use by the handler and the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// newTestClock returns a clock standing at start.
func newTestClock(start time.Time) *testClock { return &testClock{t: start} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// encodeAt is Middleware.Encode at a chosen issue time.
func encodeAt(m *Middleware, values map[string]any, now time.Time) (string, error) {
	c := *m
	c.now = func() time.Time { return now }
	return c.Encode(values)
}

// upperCodec is a user codec: it stores the payload in the clear, reversed
// byte by byte, with no integrity at all (for the test only).
type upperCodec struct{}

func (upperCodec) Encode(p []byte, _ time.Time) (string, error) {
	out := []byte(string(p))
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return "R" + string(encodeB64(out)), nil
}

func (upperCodec) Decode(v string, _ time.Time) (Decoded, error) {
	raw, err := b64.DecodeString(strings.TrimPrefix(v, "R"))
	if err != nil || !strings.HasPrefix(v, "R") {
		return Decoded{}, malformed("not an upperCodec value")
	}
	for i, j := 0, len(raw)-1; i < j; i, j = i+1, j-1 {
		raw[i], raw[j] = raw[j], raw[i]
	}
	return Decoded{Payload: raw}, nil
}

func encodeB64(b []byte) []byte { return b64.AppendEncode(nil, b) }

// secFormats is every built-in format.
var secFormats = []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT, FormatEncrypted}

// secFuzzMiddleware returns a Middleware of format f on a clock stopped at
// secT0.
func secFuzzMiddleware(t testing.TB, f Format) *Middleware {
	return secNew(t, SessionConfig{Format: f, Now: func() time.Time { return secT0 }})
}

// secFuzzSeeds returns valid cookies of every format, signed at secT0.
func secFuzzSeeds(t testing.TB) []string {
	var out []string
	for _, f := range secFormats {
		m := secFuzzMiddleware(t, f)
		for _, vals := range []map[string]any{
			{},
			{"user": "alice", "n": json.Number("12345678901234567890"), "list": []any{1, "two", nil, true}},
			{"nested": map[string]any{"a": map[string]any{"b": []any{}}}, "s": strings.Repeat("x", 200)},
		} {
			v, err := m.Encode(vals)
			if err != nil {
				t.Fatalf("%v: Encode: %v", f, err)
			}
			out = append(out, v)
		}
	}
	return out
}

const (
	mwKey      = "middleware-test-key-0123456789abcdefghijklmn"
	mwOldKey   = "middleware-test-old-key-0123456789abcdefghij"
	mwOtherKey = "middleware-test-other-key-0123456789abcdefgh"
)

var mwT0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// mwLogs is a slog.Handler that records every record with its attributes.
type mwLogs struct {
	mu   sync.Mutex
	recs []mwRecord
}

type mwRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func (l *mwLogs) Enabled(context.Context, slog.Level) bool { return true }

func (l *mwLogs) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *mwLogs) WithGroup(string) slog.Handler { return l }

func (l *mwLogs) Handle(_ context.Context, r slog.Record) error {
	rec := mwRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Any()
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	l.mu.Unlock()
	return nil
}

// rejections returns the reasons logged for rejected cookies.
func (l *mwLogs) rejections() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []error
	for _, r := range l.recs {
		if r.msg == "sessions: cookie rejected" {
			err, _ := r.attrs["reason"].(error)
			out = append(out, err)
		}
	}
	return out
}

// mwEnv is a Middleware with a settable clock, a captured log and a
// recording error handler.
type mwEnv struct {
	t     *testing.T
	m     *Middleware
	clock *testClock
	logs  *mwLogs

	mu   sync.Mutex
	errs []error
}

// mwNew builds an mwEnv. cfg's zero SecretKey, Now, Logger and ErrorHandler
// are filled in; an ErrorHandler given in cfg is kept.
func mwNew(t *testing.T, cfg SessionConfig) *mwEnv {
	t.Helper()
	e := &mwEnv{t: t, clock: newTestClock(mwT0), logs: &mwLogs{}}
	if cfg.SecretKey == "" {
		cfg.SecretKey = mwKey
	}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(e.logs)
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			e.mu.Lock()
			e.errs = append(e.errs, err)
			e.mu.Unlock()
			if !errors.Is(err, ErrHeadersWritten) {
				http.Error(w, "session error", http.StatusInternalServerError)
			}
		}
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	return e
}

func (e *mwEnv) errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// do serves one request to h through the middleware with a recorder,
// sending cookie (a value of the session cookie) when it is not empty.
func (e *mwEnv) do(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest("GET", "http://example.test/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", e.m.cfg.CookieName+"="+cookie)
	}
	rec := httptest.NewRecorder()
	e.m.Handler(h).ServeHTTP(rec, r)
	return rec
}

// mint returns a cookie value holding values, signed at the clock's time.
func (e *mwEnv) mint(values map[string]any) string {
	e.t.Helper()
	v, err := encodeAt(e.m, values, e.clock.Now())
	if err != nil {
		e.t.Fatalf("EncodeAt: %v", err)
	}
	return v
}

// mwSessionCookie returns the session cookie a response sets, or nil.
func mwSessionCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			if found != nil {
				t.Fatalf("two Set-Cookie lines for %s: %q", name, h.Values("Set-Cookie"))
			}
			found = c
		}
	}
	return found
}

// mwGetSession is GetSession failing the test on error.
func mwGetSession(t *testing.T, r *http.Request) *Session {
	s, err := GetSession(r.Context())
	if err != nil {
		t.Errorf("GetSession: %v", err)
		return &Session{values: map[string]any{}}
	}
	return s
}

// mwServer is a real HTTP server with a cookie jar client.
type mwServer struct {
	*httptest.Server
	t       *testing.T
	client  *http.Client
	handler http.Handler   // the handler under test, before the middleware
	running sync.WaitGroup // requests whose middleware has not returned
}

func (e *mwEnv) serve(h http.Handler) *mwServer {
	s := &mwServer{t: e.t, handler: h}
	wrapped := e.m.Handler(h)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Added before the response can reach the client, so that get
		// can wait for the middleware's work after the response.
		s.running.Add(1)
		defer s.running.Done()
		wrapped.ServeHTTP(w, r)
	}))
	e.t.Cleanup(s.Server.Close)
	jar, _ := cookiejar.New(nil)
	s.client = &http.Client{Jar: jar}
	return s
}

type mwResp struct {
	status int
	header http.Header
	body   string
}

func (s *mwServer) get(path string) mwResp {
	s.t.Helper()
	resp, err := s.client.Get(s.URL + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: reading body: %v", path, err)
	}
	// The middleware may still be finishing (a hijacked connection, the
	// error hook after the response): wait for it.
	s.running.Wait()
	return mwResp{resp.StatusCode, resp.Header, string(b)}
}

// jarCookie returns the session cookie value the client holds, or "".
func (s *mwServer) jarCookie(name string) string {
	u, _ := url.Parse(s.URL)
	for _, c := range s.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// mwIncompressible returns n characters that zlib cannot shrink.
func mwIncompressible(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	secKey      = "security-test-key-0123456789abcdefghijklmnop"
	secOtherKey = "security-test-other-key-0123456789abcdefghij"
	secOldKey   = "security-test-old-key-0123456789abcdefghijkl"
)

// secT0 is the start of every settable clock.
var secT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// secNew returns New(cfg) with the test key (when cfg has none), a quiet
// logger, and the clock (when cfg has none), failing the test on error.
func secNew(t testing.TB, cfg SessionConfig) *Middleware {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = secKey
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = newTestClock(secT0).Now
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// secSeen is what secProbe saw of the request's session.
type secSeen struct {
	Values map[string]any
	UserID string
	Err    error
}

// secProbe returns a handler that records the session it is given, then
// runs act (if not nil) on it.
func secProbe(seen *secSeen, act func(w http.ResponseWriter, r *http.Request, s *Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := GetSession(r.Context())
		seen.Err = err
		if err != nil {
			return
		}
		seen.Values = map[string]any{}
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			seen.Values[k] = v
		}
		seen.UserID = s.UserID()
		if act != nil {
			act(w, r, s)
		}
	})
}

// secServe runs h behind m for one GET request carrying the given Cookie
// header lines and returns the recorded response.
func secServe(m *Middleware, h http.Handler, cookieLines ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://example.test/", nil)
	for _, line := range cookieLines {
		r.Header.Add("Cookie", line)
	}
	w := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(w, r)
	return w
}

// secLoad sends cookieLines to m and returns the session the handler saw.
func secLoad(t testing.TB, m *Middleware, cookieLines ...string) secSeen {
	t.Helper()
	var seen secSeen
	w := secServe(m, secProbe(&seen, nil), cookieLines...)
	if seen.Err != nil {
		t.Fatalf("GetSession: %v", seen.Err)
	}
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	return seen
}

// secSetCookie returns the value of the Set-Cookie for name in w, and
// whether there is one.
func secSetCookie(t testing.TB, w *httptest.ResponseRecorder, name string) (string, bool) {
	t.Helper()
	var found []string
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			found = append(found, c.Value)
		}
	}
	if len(found) > 1 {
		t.Fatalf("%d Set-Cookie lines for %q, want at most one", len(found), name)
	}
	if len(found) == 0 {
		return "", false
	}
	return found[0], true
}

// secIssue runs a request that stores values (and logs in userID when not
// empty) and returns the session cookie value the response sets.
func secIssue(t testing.TB, m *Middleware, userID string, values map[string]any, cookieLines ...string) string {
	t.Helper()
	var seen secSeen
	w := secServe(m, secProbe(&seen, func(w http.ResponseWriter, r *http.Request, s *Session) {
		if userID != "" {
			if err := Login(r.Context(), userID); err != nil {
				t.Errorf("Login: %v", err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(values)) {
			s.Set(k, values[k])
		}
	}), cookieLines...)
	if seen.Err != nil {
		t.Fatalf("GetSession: %v", seen.Err)
	}
	v, ok := secSetCookie(t, w, m.cfg.CookieName)
	if !ok || v == "" {
		t.Fatalf("no session cookie set (status %d, headers %v)", w.Code, w.Header())
	}
	return v
}

// secCodecSigner returns the signer of m's default-format codec, to sign
// crafted payloads with the real key.
func secCodecSigner(t testing.TB, m *Middleware) *signer {
	t.Helper()
	c, ok := m.codec.(*itsdangerousCodec)
	if !ok {
		t.Fatalf("codec is %T, want *itsdangerousCodec", m.codec)
	}
	return c.s
}

// secSignPayload signs raw payload bytes (JSON or not) with m's codec and
// the real key, at m's current time.
func secSignPayload(t testing.TB, m *Middleware, payload string) string {
	t.Helper()
	v, err := m.codec.Encode([]byte(payload), m.now())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return v
}

// secMapStore is a minimal in-memory Store for the unit tests of the
// middleware's store mode (the store tests proper, against memstore and
// filestore, are in security_store_test.go).
type secMapStore struct {
	mu   sync.Mutex
	recs map[string]Record
}

func newSecMapStore() *secMapStore { return &secMapStore{recs: map[string]Record{}} }

func (s *secMapStore) Find(_ context.Context, id string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id]
	if !ok {
		return nil, false, nil
	}
	return slices.Clone(r.Data), true, nil
}

func (s *secMapStore) Create(_ context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.ID]; ok {
		return ErrExists
	}
	s.recs[rec.ID] = rec
	return nil
}

func (s *secMapStore) Update(_ context.Context, rec Record) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.ID]; !ok {
		return false, nil
	}
	s.recs[rec.ID] = rec
	return true, nil
}

func (s *secMapStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
	return nil
}

func (s *secMapStore) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.recs))
}

// secReplaceAt returns s with the byte at i replaced by c.
func secReplaceAt(s string, i int, c byte) string {
	return s[:i] + string(c) + s[i+1:]
}

// secAlphabet is every character a cookie value of the default format may
// contain.
const secAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// secParts splits a default-format value into payload, timestamp and
// signature.
func secParts(t testing.TB, v string) (payload, ts, sig string) {
	t.Helper()
	i := strings.LastIndexByte(v, '.')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(v[:i], '.')
	}
	if i < 0 || j < 0 {
		t.Fatalf("value %q has no timestamp and signature", v)
	}
	return v[:j], v[j+1 : i], v[i+1:]
}

// secValidCookie returns a cookie of m holding a logged-in-looking session.
func secValidCookie(t *testing.T, m *Middleware) string {
	t.Helper()
	v, err := m.Encode(map[string]any{"role": "user", "cart": []any{"apple", "pear"}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if _, err := m.Decode(context.Background(), v); err != nil {
		t.Fatalf("Decode of a fresh cookie: %v", err)
	}
	return v
}

// secAllocs is testing.AllocsPerRun, the least of three measurements: a
// goroutine another test left running can only add to a measurement.
func secAllocs(f func()) float64 {
	least := testing.AllocsPerRun(50, f)
	for i := 0; i < 2; i++ {
		least = min(least, testing.AllocsPerRun(50, f))
	}
	return least
}

// secBytesPerRun returns the average heap bytes f allocates (the least of
// three measurements).
func secBytesPerRun(f func()) uint64 {
	const runs = 20
	f()
	var least uint64
	for try := 0; try < 3; try++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			f()
		}
		runtime.ReadMemStats(&after)
		if n := (after.TotalAlloc - before.TotalAlloc) / runs; try == 0 || n < least {
			least = n
		}
	}
	return least
}

// newTestSession returns an empty session of the default format, as the
// middleware creates it.
func newTestSession() *Session {
	return &Session{scheme: defaultScheme{}, values: map[string]any{}}
}
