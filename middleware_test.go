package sessions

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the middleware tests. Every name starts with "mw" so that the
// package's other test files can use short names.

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
func (l *mwLogs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *mwLogs) WithGroup(string) slog.Handler            { return l }

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

// mwCountingCodec counts Decode calls of the codec it wraps.
type mwCountingCodec struct {
	Codec
	mu      sync.Mutex
	decodes int
}

func (c *mwCountingCodec) Decode(v string, now time.Time) (Decoded, error) {
	c.mu.Lock()
	c.decodes++
	c.mu.Unlock()
	return c.Codec.Decode(v, now)
}

func TestLazyUntouchedRequest(t *testing.T) {
	plain := mwNew(t, SessionConfig{})
	counting := &mwCountingCodec{Codec: plain.m.codec}
	e := mwNew(t, SessionConfig{Codec: counting})
	cookie := e.mint(map[string]any{"a": 1})

	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}, cookie)
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("untouched request: Set-Cookie %q, want none", got)
	}
	// The session cookie alone makes the response vary on it: a helper
	// could have read the session after the headers went out.
	if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
		t.Errorf("untouched request with a session cookie: Vary %q, want [Cookie]", got)
	}
	if counting.decodes != 0 {
		t.Errorf("untouched request decoded the cookie %d times, want 0", counting.decodes)
	}

	// Reading decodes once per request, however often GetSession is called.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			s := mwGetSession(t, r)
			if v, _ := GetAs[int](s, "a"); v != 1 {
				t.Errorf("a = %v, want 1", v)
			}
		}
	}, cookie)
	if counting.decodes != 1 {
		t.Errorf("reading request decoded the cookie %d times, want 1", counting.decodes)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("read-only request: Set-Cookie %q, want none", got)
	}
	if got := rec.Header().Get("Vary"); got != "Cookie" {
		t.Errorf("read-only request: Vary %q, want Cookie", got)
	}

	// A new session that stays empty is not written either.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		s.Get("missing")
		s.Delete("missing")
		s.Clear()
	}, "")
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("empty new session: Set-Cookie %q, want none", got)
	}
}

func TestWriteBack(t *testing.T) {
	tests := []struct {
		name string
		send func(t *testing.T, w http.ResponseWriter)
	}{
		{"WriteHeader", func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }},
		{"Write", func(t *testing.T, w http.ResponseWriter) { io.WriteString(w, "body") }},
		{"Flush", func(t *testing.T, w http.ResponseWriter) { w.(http.Flusher).Flush() }},
		{"ResponseController.Flush", func(t *testing.T, w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}},
		{"ReadFrom", func(t *testing.T, w http.ResponseWriter) {
			if _, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("body")); err != nil {
				t.Errorf("ReadFrom: %v", err)
			}
		}},
		{"io.Copy", func(t *testing.T, w http.ResponseWriter) { io.Copy(w, strings.NewReader("body")) }},
		{"end of handler", func(t *testing.T, w http.ResponseWriter) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwNew(t, SessionConfig{})
			var afterSend http.Header
			srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/set":
					mwGetSession(t, r).Set("k", "v")
					tt.send(t, w)
					afterSend = w.Header().Clone()
					// A late header proves the response had gone out.
					w.Header().Set("X-Late", "1")
				case "/get":
					v, _ := GetAs[string](mwGetSession(t, r), "k")
					io.WriteString(w, v)
				}
			}))
			resp := srv.get("/set")
			if tt.name != "end of handler" && resp.header.Get("X-Late") != "" {
				t.Fatalf("test is broken: headers were not sent by %s", tt.name)
			}
			if resp.header.Get("Set-Cookie") == "" {
				t.Fatalf("no Set-Cookie after %s (headers seen by the handler: %v)", tt.name, afterSend)
			}
			if got := srv.get("/get").body; got != "v" {
				t.Errorf("next request read %q, want v", got)
			}
			if errs := e.errors(); len(errs) != 0 {
				t.Errorf("error handler called: %v", errs)
			}
		})
	}
}

// An informational response (103 Early Hints) precedes the real one: it
// does not commit the session, and changes after it are still saved.
func TestInformationalResponseDoesNotCommit(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		if r.URL.Path == "/get" {
			fmt.Fprint(w, s.Keys())
			return
		}
		s.Set("a", 1)
		w.Header().Add("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		s.Set("b", 2)
		io.WriteString(w, "body")
	}))
	resp := srv.get("/set")
	if resp.status != http.StatusOK || len(resp.header.Values("Set-Cookie")) != 1 {
		t.Errorf("status %d, Set-Cookie %q; want 200 and one cookie", resp.status, resp.header.Values("Set-Cookie"))
	}
	if got := srv.get("/get").body; got != "[a b]" {
		t.Errorf("saved keys %s, want [a b]", got)
	}
	if errs := e.errors(); len(errs) != 0 {
		t.Errorf("error handler called: %v", errs)
	}
}

func TestOnlyChangedSessionsWritten(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{"n": 1, "list": []any{1}, "obj": map[string]any{"a": "b"}})
	tests := []struct {
		name  string
		h     func(s *Session)
		write bool
	}{
		{"read only", func(s *Session) { s.Get("n"); s.Keys(); s.Len() }, false},
		{"read maps and slices unchanged", func(s *Session) { s.Get("list"); s.Get("obj") }, false},
		{"delete missing key", func(s *Session) { s.Delete("nope") }, false},
		{"reserved key ignored", func(s *Session) { s.Set(ReservedKey, "x"); s.Delete(ReservedKey) }, false},
		{"flashes when none", func(s *Session) { s.Flashes() }, false},
		{"set", func(s *Session) { s.Set("n", 2) }, true},
		{"set same value", func(s *Session) { s.Set("n", 1) }, true},
		{"delete", func(s *Session) { s.Delete("n") }, true},
		{"clear", func(s *Session) { s.Clear() }, true},
		{"add flash", func(s *Session) { s.AddFlash("info", "hi") }, true},
	}
	for _, tt := range tests {
		rec := e.do(func(w http.ResponseWriter, r *http.Request) { tt.h(mwGetSession(t, r)) }, cookie)
		got := mwSessionCookie(t, rec.Header(), "session") != nil
		if got != tt.write {
			t.Errorf("%s: cookie written %v, want %v", tt.name, got, tt.write)
		}
	}
}

func TestNestedInPlaceChangesSaved(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{
		"prefs": map[string]any{"theme": "dark", "deep": map[string]any{"n": 1}},
		"list":  []any{"a", "b"},
	})
	tests := []struct {
		name  string
		h     func(s *Session)
		check func(values map[string]any) bool
	}{
		{"map value", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["theme"] = "light"
		}, func(v map[string]any) bool { return v["prefs"].(map[string]any)["theme"] == "light" }},
		{"map in a map", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["deep"].(map[string]any)["n"] = 2
		}, func(v map[string]any) bool {
			return v["prefs"].(map[string]any)["deep"].(map[string]any)["n"] == json.Number("2")
		}},
		{"slice element", func(s *Session) {
			v, _ := s.Get("list")
			v.([]any)[1] = "z"
		}, func(v map[string]any) bool { return v["list"].([]any)[1] == "z" }},
		{"slice set then grown in place", func(s *Session) {
			s.Set("tags", []string{"x"})
			// not loaded from the cookie: a Set value is saved whatever happens to it
		}, func(v map[string]any) bool { return v["tags"].([]any)[0] == "x" }},
	}
	for _, tt := range tests {
		rec := e.do(func(w http.ResponseWriter, r *http.Request) { tt.h(mwGetSession(t, r)) }, cookie)
		c := mwSessionCookie(t, rec.Header(), "session")
		if c == nil {
			t.Errorf("%s: in-place change not written", tt.name)
			continue
		}
		values, err := e.m.Decode(context.Background(), c.Value)
		if err != nil {
			t.Fatalf("%s: Decode: %v", tt.name, err)
		}
		if !tt.check(values) {
			t.Errorf("%s: saved values %v do not hold the change", tt.name, values)
		}
	}
}

func TestHijackAndResponseController(t *testing.T) {
	for _, how := range []string{"Hijacker", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			e := mwNew(t, SessionConfig{})
			srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mwGetSession(t, r).Set("k", "v")
				rc := http.NewResponseController(w)
				if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetWriteDeadline: %v", err)
				}
				if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetReadDeadline: %v", err)
				}
				var conn net.Conn
				var bw *bufio.ReadWriter
				var err error
				if how == "Hijacker" {
					conn, bw, err = w.(http.Hijacker).Hijack()
				} else {
					conn, bw, err = rc.Hijack()
				}
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				bw.Flush()
			}))
			resp := srv.get("/")
			if resp.body != "hijacked" {
				t.Errorf("body %q, want hijacked", resp.body)
			}
			// The change could not be sent on a hijacked connection: it is
			// reported, not silently lost.
			if errs := e.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrHeadersWritten) {
				t.Errorf("error handler got %v, want [ErrHeadersWritten]", errs)
			}
		})
	}
}

// Inner writers with each combination of the optional interfaces.
type mwPlainWriter struct{ rec *httptest.ResponseRecorder }

func (w *mwPlainWriter) Header() http.Header         { return w.rec.Header() }
func (w *mwPlainWriter) Write(p []byte) (int, error) { return w.rec.Write(p) }
func (w *mwPlainWriter) WriteHeader(code int)        { w.rec.WriteHeader(code) }

type mwFlushPart struct{ flushed *int }

func (f mwFlushPart) Flush() { *f.flushed++ }

type mwHijackPart struct{}

func (mwHijackPart) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("mw: test hijack")
}

type mwReadFromPart struct{ w *mwPlainWriter }

func (r mwReadFromPart) ReadFrom(src io.Reader) (int64, error) { return io.Copy(r.w.rec, src) }

func TestWrapperClaimsOnlyInnerInterfaces(t *testing.T) {
	for mask := range 8 {
		f, h, rf := mask&1 != 0, mask&2 != 0, mask&4 != 0
		name := fmt.Sprintf("flusher=%v,hijacker=%v,readerFrom=%v", f, h, rf)
		t.Run(name, func(t *testing.T) {
			base := &mwPlainWriter{rec: httptest.NewRecorder()}
			flushes := 0
			fp, hp, rp := mwFlushPart{&flushes}, mwHijackPart{}, mwReadFromPart{base}
			var inner http.ResponseWriter
			switch {
			case f && h && rf:
				inner = struct {
					*mwPlainWriter
					mwFlushPart
					mwHijackPart
					mwReadFromPart
				}{base, fp, hp, rp}
			case f && h:
				inner = struct {
					*mwPlainWriter
					mwFlushPart
					mwHijackPart
				}{base, fp, hp}
			case f && rf:
				inner = struct {
					*mwPlainWriter
					mwFlushPart
					mwReadFromPart
				}{base, fp, rp}
			case h && rf:
				inner = struct {
					*mwPlainWriter
					mwHijackPart
					mwReadFromPart
				}{base, hp, rp}
			case f:
				inner = struct {
					*mwPlainWriter
					mwFlushPart
				}{base, fp}
			case h:
				inner = struct {
					*mwPlainWriter
					mwHijackPart
				}{base, hp}
			case rf:
				inner = struct {
					*mwPlainWriter
					mwReadFromPart
				}{base, rp}
			default:
				inner = base
			}
			e := mwNew(t, SessionConfig{})
			r := httptest.NewRequest("GET", "/", nil)
			e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, gotF := w.(http.Flusher)
				_, gotH := w.(http.Hijacker)
				_, gotR := w.(io.ReaderFrom)
				if gotF != f || gotH != h || gotR != rf {
					t.Errorf("wrapper claims flusher=%v hijacker=%v readerFrom=%v, want %v %v %v", gotF, gotH, gotR, f, h, rf)
				}
				if uw, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok || uw.Unwrap() != inner {
					t.Errorf("Unwrap does not return the inner writer")
				}
				mwGetSession(t, r).Set("k", "v")
				err := http.NewResponseController(w).Flush()
				if f && err != nil {
					t.Errorf("ResponseController.Flush: %v", err)
				}
				if !f && !errors.Is(err, http.ErrNotSupported) {
					t.Errorf("ResponseController.Flush without a Flusher: err %v, want http.ErrNotSupported", err)
				}
				// The inner Hijack fails: the response, and the session,
				// must stay as they were.
				if _, _, err := http.NewResponseController(w).Hijack(); !h && !errors.Is(err, http.ErrNotSupported) {
					t.Errorf("ResponseController.Hijack without a Hijacker: err %v, want http.ErrNotSupported", err)
				} else if h && (err == nil || errors.Is(err, http.ErrNotSupported)) {
					t.Errorf("ResponseController.Hijack: err %v, want the inner writer's error", err)
				}
			})).ServeHTTP(inner, r)
			if f && flushes != 1 {
				t.Errorf("inner Flush called %d times, want 1", flushes)
			}
			if mwSessionCookie(t, base.rec.Header(), "session") == nil {
				t.Errorf("session not written")
			}
		})
	}
}

func TestChangeAfterHeadersReported(t *testing.T) {
	tests := []struct {
		name string
		h    func(t *testing.T, w http.ResponseWriter, r *http.Request)
	}{
		{"Set after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := mwGetSession(t, r)
			io.WriteString(w, "body")
			s.Set("late", true)
		}},
		{"in-place change after WriteHeader", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := mwGetSession(t, r)
			s.Set("m", map[string]any{})
			w.WriteHeader(http.StatusOK)
			m, _ := s.Get("m")
			m.(map[string]any)["late"] = true
		}},
		{"Commit after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			mwGetSession(t, r)
			io.WriteString(w, "body")
			if err := Commit(r.Context()); !errors.Is(err, ErrHeadersWritten) {
				t.Errorf("Commit: err %v, want ErrHeadersWritten", err)
			}
			mwGetSession(t, r).Set("late", 1)
		}},
		{"Login after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "body")
			if err := Login(r.Context(), "u1"); !errors.Is(err, ErrHeadersWritten) {
				t.Errorf("Login: err %v, want ErrHeadersWritten", err)
			}
			mwGetSession(t, r).Set("late", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwNew(t, SessionConfig{})
			rec := e.do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, "")
			if errs := e.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrHeadersWritten) {
				t.Errorf("error handler got %v, want [ErrHeadersWritten]", errs)
			}
			if rec.Code != http.StatusOK || rec.Body.String() == "session error" {
				t.Errorf("response changed after the headers went out: %d %q", rec.Code, rec.Body)
			}
		})
	}
	// The default error handler logs it.
	logs := &mwLogs{}
	m, err := New(SessionConfig{SecretKey: mwKey, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		io.WriteString(w, "ok")
		s.Set("late", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	found := false
	for _, r := range logs.recs {
		if err, _ := r.attrs["err"].(error); r.level == slog.LevelError && errors.Is(err, ErrHeadersWritten) {
			found = true
		}
	}
	if !found || rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("default handler: logged %v, response %d %q; want ErrHeadersWritten logged, 200 ok", found, rec.Code, rec.Body)
	}
}

func TestCommitBeforeStreaming(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	var inHandler []string
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		s.Set("a", 1)
		if err := Commit(r.Context()); err != nil {
			t.Errorf("Commit: %v", err)
		}
		inHandler = w.Header().Values("Set-Cookie")
		// Changed again before the headers went out: committed again,
		// replacing the first cookie.
		s.Set("b", 2)
		io.WriteString(w, "streamed")
	}, "")
	if len(inHandler) != 1 {
		t.Errorf("after Commit the headers hold %q, want one Set-Cookie", inHandler)
	}
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no session cookie")
	}
	values, err := e.m.Decode(context.Background(), c.Value)
	if err != nil || values["a"] != json.Number("1") || values["b"] != json.Number("2") {
		t.Errorf("cookie holds %v, %v; want a=1 b=2", values, err)
	}
	if got := rec.Header().Values("Cache-Control"); len(got) != 1 {
		t.Errorf("Cache-Control %q, want one", got)
	}

	// Commit of an unchanged session writes nothing and is not an error.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) {
		if err := Commit(r.Context()); err != nil {
			t.Errorf("Commit: %v", err)
		}
	}, "")
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Commit of an empty session set %q", got)
	}
	// Commit reports what the error handler would have received.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("bad", make(chan int))
		if err := Commit(r.Context()); err == nil {
			t.Errorf("Commit of an unencodable value: nil error")
		}
	}, "")
	if rec.Code != http.StatusInternalServerError || len(e.errors()) != 1 {
		t.Errorf("unencodable value: status %d, errors %v; want 500 and one error", rec.Code, e.errors())
	}
}

func TestDestroy(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		switch r.URL.Path {
		case "/set":
			s.Set("k", "v")
		case "/destroy":
			if err := Destroy(r.Context()); err != nil {
				t.Errorf("Destroy: %v", err)
			}
			if s.Len() != 0 {
				t.Errorf("after Destroy Len = %d", s.Len())
			}
		case "/destroy-then-set":
			Destroy(r.Context())
			s.Set("fresh", true)
		}
		fmt.Fprint(w, s.Keys())
	}))
	srv.get("/set")
	if srv.jarCookie("session") == "" {
		t.Fatal("no cookie after /set")
	}
	resp := srv.get("/destroy")
	c := mwSessionCookie(t, resp.header, "session")
	if c == nil || c.MaxAge != -1 || c.Value != "" {
		t.Errorf("Destroy sent %v, want a deletion cookie", c)
	}
	if srv.jarCookie("session") != "" {
		t.Errorf("client still holds the cookie")
	}
	srv.get("/set")
	if got := srv.get("/destroy-then-set").body; got != "[fresh]" {
		t.Errorf("after Destroy and Set: keys %s, want [fresh]", got)
	}
	if got := srv.get("/").body; got != "[fresh]" {
		t.Errorf("next request: keys %s, want [fresh]", got)
	}
}

func TestExpiryMaxAge(t *testing.T) {
	e := mwNew(t, SessionConfig{MaxAge: time.Hour})
	cookie := e.mint(map[string]any{"k": "v"})
	read := func() (int, []error) {
		before := len(e.logs.rejections())
		n := 0
		e.do(func(w http.ResponseWriter, r *http.Request) { n = mwGetSession(t, r).Len() }, cookie)
		return n, e.logs.rejections()[before:]
	}
	e.clock.Add(time.Hour)
	if n, errs := read(); n != 1 || len(errs) != 0 {
		t.Errorf("at MaxAge: %d keys, rejections %v; want 1, none", n, errs)
	}
	e.clock.Add(time.Second)
	n, errs := read()
	var exp *ExpiredError
	if n != 0 || len(errs) != 1 || !errors.As(errs[0], &exp) || exp.Which != "MaxAge" || !errors.Is(errs[0], ErrExpired) {
		t.Errorf("after MaxAge: %d keys, rejections %v; want 0 and an ExpiredError for MaxAge", n, errs)
	}
	// The cookie's Max-Age matches MaxAge.
	rec := e.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("k", 1) }, "")
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil || c.MaxAge != 3600 {
		t.Errorf("cookie %v, want Max-Age 3600", c)
	}
}

func TestExpiryFutureTimestamp(t *testing.T) {
	for _, tt := range []struct {
		skew, ahead time.Duration
		ok          bool
	}{
		{0, 30 * time.Second, true}, // default skew: one minute
		{0, 61 * time.Second, false},
		{5 * time.Minute, 4 * time.Minute, true},
		{5 * time.Minute, 6 * time.Minute, false},
		{-1, time.Second, false}, // negative skew: none allowed
		{-1, 0, true},
	} {
		e := mwNew(t, SessionConfig{ClockSkew: tt.skew})
		v, err := encodeAt(e.m, map[string]any{"k": 1}, e.clock.Now().Add(tt.ahead))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		e.do(func(w http.ResponseWriter, r *http.Request) { n = mwGetSession(t, r).Len() }, v)
		rej := e.logs.rejections()
		if tt.ok && (n != 1 || len(rej) != 0) {
			t.Errorf("skew %v, %v ahead: %d keys, rejections %v; want accepted", tt.skew, tt.ahead, n, rej)
		}
		if !tt.ok && (n != 0 || len(rej) != 1 || !errors.Is(rej[0], ErrFuture)) {
			t.Errorf("skew %v, %v ahead: %d keys, rejections %v; want ErrFuture", tt.skew, tt.ahead, n, rej)
		}
	}
}

func TestIdleTimeoutThrottledRefresh(t *testing.T) {
	e := mwNew(t, SessionConfig{IdleTimeout: time.Hour})
	cookie := e.mint(map[string]any{"k": "v"})
	visit := func() (keys int, set *http.Cookie) {
		rec := e.do(func(w http.ResponseWriter, r *http.Request) { keys = mwGetSession(t, r).Len() }, cookie)
		set = mwSessionCookie(t, rec.Header(), "session")
		if set != nil {
			cookie = set.Value
		}
		return keys, set
	}
	e.clock.Add(14 * time.Minute)
	if n, c := visit(); n != 1 || c != nil {
		t.Errorf("before a quarter of the window: %d keys, cookie %v; want 1 key, no cookie", n, c)
	}
	e.clock.Add(time.Minute) // 15 minutes: a quarter
	n, c := visit()
	if n != 1 || c == nil {
		t.Fatalf("after a quarter of the window: %d keys, cookie %v; want a refreshed cookie", n, c)
	}
	if c.MaxAge != 3600 {
		t.Errorf("refreshed cookie Max-Age %d, want 3600", c.MaxAge)
	}
	// Active use keeps it alive well beyond the first hour...
	for range 6 {
		e.clock.Add(50 * time.Minute)
		if n, _ := visit(); n != 1 {
			t.Fatalf("active session expired at %v", e.clock.Now().Sub(mwT0))
		}
	}
	// ...but an hour and a second of inactivity ends it.
	e.clock.Add(time.Hour + time.Second)
	if n, _ := visit(); n != 0 {
		t.Errorf("idle session still alive")
	}
	rej := e.logs.rejections()
	var exp *ExpiredError
	if len(rej) != 1 || !errors.As(rej[0], &exp) || exp.Which != "IdleTimeout" {
		t.Errorf("rejections %v, want one IdleTimeout", rej)
	}
}

func TestAbsoluteTimeoutNotExtendedByRefresh(t *testing.T) {
	e := mwNew(t, SessionConfig{IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour})
	cookie := e.mint(map[string]any{"k": "v"})
	var last *http.Cookie
	alive := func() bool {
		n := 0
		rec := e.do(func(w http.ResponseWriter, r *http.Request) { n = mwGetSession(t, r).Len() }, cookie)
		if c := mwSessionCookie(t, rec.Header(), "session"); c != nil {
			cookie, last = c.Value, c
		}
		return n == 1
	}
	for i := range 5 { // 40, 80, 120, 160 minutes: refreshed each time
		e.clock.Add(40 * time.Minute)
		if i < 4 && !alive() {
			t.Fatalf("session ended early, at %v", e.clock.Now().Sub(mwT0))
		}
	}
	// At 160 minutes the refreshed cookie may live only 20 more minutes.
	if last == nil || last.MaxAge != 20*60 {
		t.Errorf("last refresh %v, want Max-Age capped at 1200 by AbsoluteTimeout", last)
	}
	// 200 minutes after creation: past the absolute limit, though active.
	if alive() {
		t.Fatalf("session alive after AbsoluteTimeout")
	}
	rej := e.logs.rejections()
	var exp *ExpiredError
	if len(rej) != 1 || !errors.As(rej[0], &exp) || exp.Which != "AbsoluteTimeout" || !exp.Issued.Equal(mwT0) {
		t.Errorf("rejections %v, want one AbsoluteTimeout counted from %v", rej, mwT0)
	}
}

// A cookie without our metadata (minted by another system) is counted from
// its signed timestamp, and refreshing it must not restart that count.
func TestAbsoluteTimeoutForeignCookie(t *testing.T) {
	e := mwNew(t, SessionConfig{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	cookie, err := e.m.codec.Encode([]byte(`{"k":"v"}`), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var created time.Time
	alive := func() bool {
		n := 0
		rec := e.do(func(w http.ResponseWriter, r *http.Request) {
			s := mwGetSession(t, r)
			n, created = s.Len(), s.Created()
		}, cookie)
		if c := mwSessionCookie(t, rec.Header(), "session"); c != nil {
			cookie = c.Value
		}
		return n == 1
	}
	for range 2 { // 50 and 100 minutes: refreshed
		e.clock.Add(50 * time.Minute)
		if !alive() {
			t.Fatalf("session ended early, at %v", e.clock.Now().Sub(mwT0))
		}
		if !created.Equal(mwT0) {
			t.Errorf("Created() = %v, want the signed time %v", created, mwT0)
		}
	}
	e.clock.Add(50 * time.Minute) // 150 minutes
	if alive() {
		t.Errorf("foreign cookie alive after AbsoluteTimeout: a refresh restarted its lifetime")
	}
}

func TestLoginPreventsFixation(t *testing.T) {
	e := mwNew(t, SessionConfig{AbsoluteTimeout: 24 * time.Hour})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.URL.Path {
		case "/anon":
			s := mwGetSession(t, r)
			s.Set("cart", []string{"book"})
			s.Set("planted", "by attacker")
		case "/login":
			if err := Login(ctx, "42"); err != nil {
				t.Errorf("Login: %v", err)
			}
		case "/loginkeep":
			if err := LoginKeep(ctx, "43", "cart", "absent"); err != nil {
				t.Errorf("LoginKeep: %v", err)
			}
		case "/login-empty":
			if err := Login(ctx, ""); !errors.Is(err, ErrInvalidUserID) {
				t.Errorf("Login(\"\"): err %v, want ErrInvalidUserID", err)
			}
		}
		s := mwGetSession(t, r)
		id, ok := UserID(ctx)
		fmt.Fprintf(w, "%s %v %v %d", id, ok, s.Keys(), s.Created().Unix())
	}))
	srv.get("/anon")
	before := srv.jarCookie("session")
	e.clock.Add(time.Hour)
	resp := srv.get("/login")
	after := srv.jarCookie("session")
	if after == "" || after == before {
		t.Errorf("Login did not issue a new cookie")
	}
	want := fmt.Sprintf("42 true [] %d", mwT0.Add(time.Hour).Unix())
	if resp.body != want || srv.get("/").body != want {
		t.Errorf("after Login: %q, want %q (no pre-login keys, created at login)", resp.body, want)
	}
	srv.get("/login-empty")

	srv2 := e.serve(srv.handler)
	srv2.get("/anon")
	resp = srv2.get("/loginkeep")
	want = fmt.Sprintf("43 true [cart] %d", mwT0.Add(time.Hour).Unix())
	if resp.body != want || srv2.get("/").body != want {
		t.Errorf("after LoginKeep: %q, want %q", resp.body, want)
	}

	// The absolute timeout counts from the login.
	e.clock.Add(24*time.Hour - time.Second)
	if got := srv.get("/").body; !strings.HasPrefix(got, "42 true") {
		t.Errorf("just before AbsoluteTimeout: %q", got)
	}
	e.clock.Add(2 * time.Second)
	if got := srv.get("/").body; !strings.HasPrefix(got, " false") {
		t.Errorf("after AbsoluteTimeout: %q, want anonymous", got)
	}
}

func TestLogoutDeletesCookieWithPathAndDomain(t *testing.T) {
	e := mwNew(t, SessionConfig{Path: "/app", Domain: "example.test", Secure: true, CookieName: "sid"})
	cookie := e.mint(map[string]any{"k": "v"})
	var after int
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		if err := Logout(r.Context()); err != nil {
			t.Errorf("Logout: %v", err)
		}
		if _, ok := UserID(r.Context()); ok {
			t.Errorf("UserID after Logout: ok")
		}
		after = mwGetSession(t, r).Len()
	}, cookie)
	c := mwSessionCookie(t, rec.Header(), "sid")
	if c == nil || c.MaxAge != -1 || c.Path != "/app" || c.Domain != "example.test" || !c.Secure || !c.HttpOnly {
		t.Errorf("Logout sent %+v, want a deletion with Path /app, Domain example.test, Secure, HttpOnly", c)
	}
	if after != 0 {
		t.Errorf("%d keys after Logout", after)
	}

	// Logged in, then out, over a real connection.
	e2 := mwNew(t, SessionConfig{})
	srv := e2.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			Login(r.Context(), "u")
		case "/logout":
			Logout(r.Context())
		}
		id, _ := UserID(r.Context())
		io.WriteString(w, id)
	}))
	srv.get("/login")
	if srv.get("/").body != "u" {
		t.Fatal("not logged in")
	}
	srv.get("/logout")
	if got := srv.get("/").body; got != "" || srv.jarCookie("session") != "" {
		t.Errorf("after Logout: user %q, cookie %q", got, srv.jarCookie("session"))
	}
}

func TestRegenerateSession(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{"k": "v"})
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		old := mwGetSession(t, r)
		s, err := RegenerateSession(r.Context())
		if err != nil {
			t.Fatalf("RegenerateSession: %v", err)
		}
		if s != old || s.Len() != 0 {
			t.Errorf("RegenerateSession returned %p with %d keys, want the request's session (%p), empty", s, s.Len(), old)
		}
		s.Set("new", 1)
	}, cookie)
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no cookie after RegenerateSession")
	}
	values, err := e.m.Decode(context.Background(), c.Value)
	if err != nil || len(values) != 1 || values["new"] != json.Number("1") {
		t.Errorf("new cookie holds %v, %v; want only new=1", values, err)
	}
	// Regenerated and left empty: the old cookie is deleted.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) { RegenerateSession(r.Context()) }, cookie)
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil || c.MaxAge != -1 {
		t.Errorf("regenerated empty session sent %v, want a deletion", c)
	}
}

func TestKeyRotation(t *testing.T) {
	old := mwNew(t, SessionConfig{SecretKey: mwOldKey})
	rotated := mwNew(t, SessionConfig{SecretKey: mwKey, FallbackKeys: []string{mwOtherKey, mwOldKey}})
	current := mwNew(t, SessionConfig{SecretKey: mwKey})
	cookie := old.mint(map[string]any{"k": "v"})

	var got string
	rec := rotated.do(func(w http.ResponseWriter, r *http.Request) {
		got, _ = GetAs[string](mwGetSession(t, r), "k")
	}, cookie)
	if got != "v" {
		t.Fatalf("cookie signed with a fallback key: k = %q, want v", got)
	}
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("cookie accepted through a fallback key was not re-signed")
	}
	if v, err := current.m.Decode(context.Background(), c.Value); err != nil || v["k"] != "v" {
		t.Errorf("re-signed cookie under the current key alone: %v, %v", v, err)
	}
	for _, m := range []*Middleware{old.m, mwNew(t, SessionConfig{SecretKey: mwOtherKey}).m} {
		if _, err := m.Decode(context.Background(), c.Value); !errors.Is(err, ErrBadSignature) {
			t.Errorf("re-signed cookie verifies under a fallback key: %v", err)
		}
	}
	// Written by the rotated middleware for a change: signed with SecretKey.
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("x", 1) }, "")
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil {
		t.Error("no cookie")
	} else if _, err := current.m.Decode(context.Background(), c.Value); err != nil {
		t.Errorf("new cookie not signed with SecretKey: %v", err)
	}
	// A current cookie is not re-signed on a read.
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Get("k") }, current.mint(map[string]any{"k": "v"}))
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("current cookie re-signed: %q", got)
	}
	// A fallback cookie past MaxAge is not rescued by the fallback.
	rotated.clock.Add(DefaultMaxAge + time.Second)
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { got, _ = GetAs[string](mwGetSession(t, r), "k") }, cookie)
	if got != "" || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("expired fallback cookie: k = %q, Set-Cookie %q", got, rec.Header().Values("Set-Cookie"))
	}
}

func TestNewConfigErrors(t *testing.T) {
	key := mwKey
	tests := []struct {
		name string
		cfg  SessionConfig
		want error
	}{
		{"empty key", SessionConfig{}, ErrNoSecretKey},
		{"short key", SessionConfig{SecretKey: strings.Repeat("k", MinKeyLength-1)}, ErrWeakKey},
		{"short fallback key", SessionConfig{SecretKey: key, FallbackKeys: []string{"old"}}, ErrWeakKey},
		{"empty fallback key", SessionConfig{SecretKey: key, FallbackKeys: []string{""}}, ErrWeakKey},
		{"name with space", SessionConfig{SecretKey: key, CookieName: "my session"}, ErrInvalidConfig},
		{"name with =", SessionConfig{SecretKey: key, CookieName: "a=b"}, ErrInvalidConfig},
		{"name with ;", SessionConfig{SecretKey: key, CookieName: "a;b"}, ErrInvalidConfig},
		{"non-ASCII name", SessionConfig{SecretKey: key, CookieName: "sessión"}, ErrInvalidConfig},
		{"relative path", SessionConfig{SecretKey: key, Path: "app"}, ErrInvalidConfig},
		{"path with ;", SessionConfig{SecretKey: key, Path: "/a;b"}, ErrInvalidConfig},
		{"path with space", SessionConfig{SecretKey: key, Path: "/a b"}, ErrInvalidConfig},
		{"path with control", SessionConfig{SecretKey: key, Path: "/a\x7f"}, ErrInvalidConfig},
		{"domain with space", SessionConfig{SecretKey: key, Domain: "exa mple.com"}, ErrInvalidConfig},
		{"domain with port", SessionConfig{SecretKey: key, Domain: "example.com:80"}, ErrInvalidConfig},
		{"domain with empty label", SessionConfig{SecretKey: key, Domain: "example..com"}, ErrInvalidConfig},
		{"domain with ;", SessionConfig{SecretKey: key, Domain: "a;b.com"}, ErrInvalidConfig},
		{"SameSite=None without Secure", SessionConfig{SecretKey: key, SameSite: http.SameSiteNoneMode}, ErrInvalidConfig},
		{"unknown SameSite", SessionConfig{SecretKey: key, SameSite: http.SameSite(9)}, ErrInvalidConfig},
		{"Partitioned without Secure", SessionConfig{SecretKey: key, Partitioned: true}, ErrInvalidConfig},
		{"__Host- without Secure", SessionConfig{SecretKey: key, CookieName: "__Host-s"}, ErrInvalidConfig},
		{"__Host- with Path", SessionConfig{SecretKey: key, CookieName: "__Host-s", Secure: true, Path: "/app"}, ErrInvalidConfig},
		{"__Host- with Domain", SessionConfig{SecretKey: key, CookieName: "__Host-s", Secure: true, Domain: "example.com"}, ErrInvalidConfig},
		{"__Secure- without Secure", SessionConfig{SecretKey: key, CookieName: "__Secure-s"}, ErrInvalidConfig},
		{"negative MaxAge", SessionConfig{SecretKey: key, MaxAge: -time.Hour}, ErrInvalidConfig},
		{"MaxAge below a second", SessionConfig{SecretKey: key, MaxAge: time.Millisecond}, ErrInvalidConfig},
		{"negative IdleTimeout", SessionConfig{SecretKey: key, IdleTimeout: -time.Second}, ErrInvalidConfig},
		{"negative AbsoluteTimeout", SessionConfig{SecretKey: key, AbsoluteTimeout: -time.Second}, ErrInvalidConfig},
		{"IdleTimeout over MaxAge", SessionConfig{SecretKey: key, MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, ErrInvalidConfig},
		{"unknown Format", SessionConfig{SecretKey: key, Format: Format(99)}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if m != nil || !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New: %v, %v; want nil and an error matching %v and ErrInvalidConfig", m, err, tt.want)
			}
		})
	}
	valid := []SessionConfig{
		{SecretKey: key},
		{SecretKey: key, CookieName: "__Host-s", Secure: true},
		{SecretKey: key, CookieName: "__Secure-s", Secure: true, Domain: "example.com", Path: "/app"},
		{SecretKey: key, SameSite: http.SameSiteNoneMode, Secure: true, Partitioned: true},
		{SecretKey: key, SameSite: http.SameSiteStrictMode, Domain: ".example.com"},
		{SecretKey: key, IdleTimeout: time.Hour, AbsoluteTimeout: 8 * time.Hour, ClockSkew: -1},
	}
	for _, cfg := range valid {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestDefaultsAndConfigCopy(t *testing.T) {
	fallback := []string{mwOldKey}
	cfg := SessionConfig{SecretKey: mwKey, FallbackKeys: fallback}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Changing the caller's config afterwards changes nothing.
	fallback[0] = "x"
	cfg.CookieName = "other"
	oldCookie, _ := encodeAt(mwNew(t, SessionConfig{SecretKey: mwOldKey}).m, map[string]any{"k": 1}, time.Now())
	if _, err := m.Decode(context.Background(), oldCookie); err != nil {
		t.Errorf("fallback key lost after the caller changed its slice: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := mwSessionCookie(t, rec.Header(), DefaultCookieName)
	if c == nil {
		t.Fatalf("no %q cookie in %q", DefaultCookieName, rec.Header().Values("Set-Cookie"))
	}
	if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "" ||
		c.MaxAge != int(DefaultMaxAge/time.Second) || c.Partitioned {
		t.Errorf("default cookie %+v: want Path=/ HttpOnly SameSite=Lax, not Secure, no Domain, Max-Age 14 days", c)
	}
	e := mwNew(t, SessionConfig{ScriptReadable: true, BrowserSession: true, SameSite: http.SameSiteStrictMode, Secure: true, Partitioned: true, CookieName: "__Host-sid"})
	rec = e.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("k", 1) }, "")
	c = mwSessionCookie(t, rec.Header(), "__Host-sid")
	if c == nil || c.HttpOnly || c.MaxAge != 0 || c.SameSite != http.SameSiteStrictMode || !c.Secure || !c.Partitioned {
		t.Errorf("configured cookie %+v: want not HttpOnly, no Max-Age, Strict, Secure, Partitioned", c)
	}
}

func TestVaryAndCacheControl(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	tests := []struct {
		name      string
		preset    []string // Vary values the handler sets first
		write     bool
		wantVary  []string
		wantCache bool
	}{
		{"read", nil, false, []string{"Cookie"}, false},
		{"write", nil, true, []string{"Cookie"}, true},
		{"other Vary kept", []string{"Accept-Encoding"}, false, []string{"Accept-Encoding", "Cookie"}, false},
		{"Cookie already listed", []string{"Accept-Encoding, cookie"}, true, []string{"Accept-Encoding, cookie"}, true},
		{"Vary *", []string{"*"}, false, []string{"*"}, false},
	}
	for _, tt := range tests {
		rec := e.do(func(w http.ResponseWriter, r *http.Request) {
			for _, v := range tt.preset {
				w.Header().Add("Vary", v)
			}
			s := mwGetSession(t, r)
			if tt.write {
				s.Set("k", 1)
			}
		}, "")
		if got := rec.Header().Values("Vary"); strings.Join(got, "|") != strings.Join(tt.wantVary, "|") {
			t.Errorf("%s: Vary %q, want %q", tt.name, got, tt.wantVary)
		}
		cc := rec.Header().Values("Cache-Control")
		if tt.wantCache != (len(cc) == 1 && cc[0] == `no-cache="Set-Cookie"`) || len(cc) > 1 {
			t.Errorf("%s: Cache-Control %q, want no-cache=\"Set-Cookie\" %v", tt.name, cc, tt.wantCache)
		}
	}
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

func TestCookieTooLarge(t *testing.T) {
	// Default error handler: 500, the handler's headers dropped.
	m, err := New(SessionConfig{SecretKey: mwKey, Logger: slog.New(&mwLogs{})})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		switch r.URL.Path {
		case "/small":
			s.Set("v", "small")
		case "/big":
			s.Set("v", mwIncompressible(MaxCookieSize))
			w.Header().Set("X-Handler", "1")
			io.WriteString(w, "handler body")
			return
		}
		v, _ := GetAs[string](s, "v")
		io.WriteString(w, v)
	})))
	defer srv.Close()
	client := &http.Client{Jar: jar}
	get := func(path string) (int, string, http.Header) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	get("/small")
	code, body, h := get("/big")
	if code != http.StatusInternalServerError || strings.Contains(body, "handler body") || h.Get("X-Handler") != "" || h.Get("Set-Cookie") != "" {
		t.Errorf("oversized session: %d %q %v; want a plain 500 without the handler's headers or a cookie", code, body, h)
	}
	if _, body, _ := get("/"); body != "small" {
		t.Errorf("previous cookie lost: read %q, want small", body)
	}

	// A custom error handler receives ErrCookieTooLarge.
	e := mwNew(t, SessionConfig{})
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("v", mwIncompressible(MaxCookieSize))
	}, "")
	if errs := e.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrCookieTooLarge) || rec.Code != 500 {
		t.Errorf("error handler got %v (status %d), want [ErrCookieTooLarge]", errs, rec.Code)
	}
	// Just under the limit is fine.
	e = mwNew(t, SessionConfig{})
	rec = e.do(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("v", mwIncompressible(2900))
	}, "")
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil || len(e.errors()) != 0 {
		t.Errorf("2900-byte value: cookie %v, errors %v", c != nil, e.errors())
	} else if n := len("session=") + len(c.Value); n > MaxCookieSize {
		t.Errorf("cookie of %d bytes sent", n)
	}
}

func TestConcurrentUseFromGoroutines(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{"start": 1})
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := GetSession(r.Context())
				if err != nil {
					t.Error(err)
					return
				}
				key := fmt.Sprintf("k%02d", i)
				s.Set(key, i)
				s.Get("start")
				s.Keys()
				s.Len()
				GetAs[int](s, key)
				s.AddFlash("info", key)
				UserID(r.Context())
				if i%4 == 0 {
					s.Delete("start")
				}
			}()
		}
		wg.Wait()
		io.WriteString(w, "done")
	}, cookie)
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no cookie")
	}
	values, err := e.m.Decode(context.Background(), c.Value)
	if err != nil || len(values) != 16 {
		t.Errorf("saved %d keys (%v), want 16", len(values), err)
	}
	var flashes []Flash
	e.do(func(w http.ResponseWriter, r *http.Request) { flashes = mwGetSession(t, r).Flashes() }, c.Value)
	if len(flashes) != 16 {
		t.Errorf("%d flashes, want 16", len(flashes))
	}
}

func TestBadCookiesGiveEmptySession(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	codec := e.m.codec
	now := e.clock.Now()
	sign := func(payload string) string {
		v, err := codec.Encode([]byte(payload), now)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	good := e.mint(map[string]any{"k": "v"})
	payload, rest, _ := strings.Cut(good, ".")
	tsPart, _, _ := strings.Cut(rest, ".")
	signRaw := func(value string) string { return codec.(*itsdangerousCodec).s.signRaw([]byte(value)) }
	wrongKey, _ := encodeAt(mwNew(t, SessionConfig{SecretKey: mwOtherKey}).m, map[string]any{"k": "v"}, now)
	oversized := sign(`{"v":"` + mwIncompressible(MaxCookieSize) + `"}`)
	expired, _ := encodeAt(e.m, map[string]any{"k": "v"}, now.Add(-DefaultMaxAge-time.Second))
	future, _ := encodeAt(e.m, map[string]any{"k": "v"}, now.Add(time.Hour))

	tests := []struct {
		name   string
		cookie string
		want   error
	}{
		{"tampered payload", b64.EncodeToString([]byte(`{"k":"w"}`)) + "." + rest, ErrBadSignature},
		{"truncated", good[:len(good)-5], ErrBadSignature},
		{"only payload", payload, ErrMalformed},
		{"wrong key", wrongKey, ErrBadSignature},
		{"bad base64", signRaw("eyJr*IjoidiJ9." + tsPart), ErrMalformed},
		{"base64 padding", signRaw(payload + "==." + tsPart), ErrMalformed},
		{"array JSON", sign(`[1,2]`), ErrMalformed},
		{"string JSON", sign(`"s"`), ErrMalformed},
		{"not JSON", sign(`k=v`), ErrMalformed},
		{"deep nesting", sign(`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), ErrMalformed},
		{"duplicate keys", sign(`{"k":"v","k":"w"}`), ErrMalformed},
		{"invalid UTF-8", sign("{\"k\":\"\xff\"}"), ErrMalformed},
		{"metadata not an object", sign(`{"_ctxsession":[]}`), ErrMalformed},
		{"user id not a string", sign(`{"_ctxsession":{"uid":42}}`), ErrMalformed},
		{"bad created time", sign(`{"_ctxsession":{"c":"yesterday"}}`), ErrMalformed},
		{"bad flashes", sign(`{"_ctxsession":{"f":[["only one"]]}}`), ErrMalformed},
		{"oversized", oversized, ErrMalformed},
		{"bad timestamp", signRaw(payload + ".!!!"), ErrMalformed},
		{"timestamp with padding", signRaw(payload + "." + tsPart + "=="), ErrMalformed},
		{"expired", expired, ErrExpired},
		{"future", future, ErrFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.logs.rejections())
			var keys []string
			var user string
			var gotErr error
			rec := e.do(func(w http.ResponseWriter, r *http.Request) {
				var s *Session
				s, gotErr = GetSession(r.Context())
				if s != nil {
					keys, user = s.Keys(), s.UserID()
				}
			}, tt.cookie)
			if gotErr != nil || len(keys) != 0 || user != "" {
				t.Errorf("handler saw keys %v, user %q, err %v; want a fresh empty session", keys, user, gotErr)
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status %d, want 200", rec.Code)
			}
			rej := e.logs.rejections()[before:]
			if len(rej) != 1 || !errors.Is(rej[0], tt.want) || !errors.Is(rej[0], ErrInvalidCookie) {
				t.Errorf("logged rejections %v, want one matching %v", rej, tt.want)
			}
		})
	}

	// With several cookies of the name, the first that verifies wins.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Cookie", "session="+wrongKey+"; other=1")
	r.Header.Add("Cookie", `session="`+good+`"`)
	var got string
	e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = GetAs[string](mwGetSession(t, r), "k")
	})).ServeHTTP(httptest.NewRecorder(), r)
	if got != "v" {
		t.Errorf("bad cookie then a good one: k = %q, want v", got)
	}
	// A fresh session replacing a bad cookie is written once it holds data.
	rec := e.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("n", 1) }, wrongKey)
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil {
		t.Error("no cookie replaces the bad one")
	} else if v, err := e.m.Decode(context.Background(), c.Value); err != nil || len(v) != 1 {
		t.Errorf("replacement cookie holds %v, %v", v, err)
	}
}

func TestWithSession(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	srv := e.serve(WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) {
		same, _ := GetSession(r.Context())
		if same != s {
			t.Errorf("WithSession passed %p, GetSession returns %p", s, same)
		}
		n, _ := GetAs[int](s, "n")
		s.Set("n", n+1)
		fmt.Fprint(w, n+1)
	}))
	srv.get("/")
	if got := srv.get("/").body; got != "2" {
		t.Errorf("second visit counted %s, want 2", got)
	}
	// Outside the middleware: a 500, the function not called.
	called := false
	rec := httptest.NewRecorder()
	WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) { called = true }).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if called || rec.Code != http.StatusInternalServerError {
		t.Errorf("outside the middleware: called %v, status %d; want false, 500", called, rec.Code)
	}
}

func TestFlashMessages(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		if r.URL.Path == "/add" {
			s.AddFlash("info", "saved")
			s.AddFlash("error", "but check")
			return
		}
		json.NewEncoder(w).Encode(s.Flashes())
	}))
	srv.get("/add")
	want := `[{"category":"info","message":"saved"},{"category":"error","message":"but check"}]` + "\n"
	if got := srv.get("/show").body; got != want {
		t.Errorf("flashes %s, want %s", got, want)
	}
	if got := srv.get("/show").body; got != "null\n" {
		t.Errorf("flashes shown twice: %s", got)
	}
	if srv.jarCookie("session") != "" {
		t.Errorf("empty session still has a cookie")
	}
}

func TestGetAs(t *testing.T) {
	type profile struct {
		Name string   `json:"name"`
		Age  int      `json:"age"`
		Tags []string `json:"tags"`
	}
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{
		"int": 42, "neg": -7, "big": json.Number("300"), "huge": json.Number("123456789012345678901234567890"),
		"float": 1.5, "intfloat": 2.0, "exp": json.Number("1e3"), "str": "hi", "bool": true, "null": nil,
		"list": []string{"a", "b"}, "profile": map[string]any{"name": "Ann", "age": 30, "tags": []any{"x"}},
		"maxint64": json.Number("9223372036854775807"), "maxuint64": json.Number("18446744073709551615"),
	})
	e.do(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		check := func(name string, got any, ok bool, want any, wantOK bool) {
			t.Helper()
			if ok != wantOK || (wantOK && fmt.Sprint(got) != fmt.Sprint(want)) {
				t.Errorf("%s = %v, %v; want %v, %v", name, got, ok, want, wantOK)
			}
		}
		v1, ok := GetAs[int](s, "int")
		check("GetAs[int](int)", v1, ok, 42, true)
		v2, ok := GetAs[int64](s, "neg")
		check("GetAs[int64](neg)", v2, ok, -7, true)
		v3, ok := GetAs[int8](s, "big")
		check("GetAs[int8](300)", v3, ok, 0, false)
		v4, ok := GetAs[uint8](s, "neg")
		check("GetAs[uint8](-7)", v4, ok, 0, false)
		v5, ok := GetAs[int](s, "huge")
		check("GetAs[int](huge)", v5, ok, 0, false)
		v6, ok := GetAs[int](s, "float")
		check("GetAs[int](1.5)", v6, ok, 0, false)
		v7, ok := GetAs[int](s, "intfloat")
		check("GetAs[int](2.0)", v7, ok, 2, true)
		v8, ok := GetAs[int](s, "exp")
		check("GetAs[int](1e3)", v8, ok, 1000, true)
		v9, ok := GetAs[float64](s, "float")
		check("GetAs[float64](1.5)", v9, ok, 1.5, true)
		v10, ok := GetAs[float64](s, "int")
		check("GetAs[float64](42)", v10, ok, 42, true)
		v11, ok := GetAs[string](s, "int")
		check("GetAs[string](42)", v11, ok, "", false)
		v12, ok := GetAs[int](s, "str")
		check("GetAs[int](hi)", v12, ok, 0, false)
		v13, ok := GetAs[bool](s, "bool")
		check("GetAs[bool]", v13, ok, true, true)
		v14, ok := GetAs[[]string](s, "list")
		check("GetAs[[]string]", v14, ok, []string{"a", "b"}, true)
		v15, ok := GetAs[profile](s, "profile")
		check("GetAs[profile]", v15, ok, profile{"Ann", 30, []string{"x"}}, true)
		v16, ok := GetAs[int](s, "missing")
		check("GetAs[int](missing)", v16, ok, 0, false)
		v17, ok := GetAs[string](s, "null")
		check("GetAs[string](null)", v17, ok, "", false)
		v18, ok := GetAs[json.Number](s, "huge")
		check("GetAs[json.Number](huge)", v18, ok, "123456789012345678901234567890", true)
		v19, ok := GetAs[int64](s, "maxint64")
		check("GetAs[int64](max)", v19, ok, int64(9223372036854775807), true)
		v20, ok := GetAs[uint64](s, "maxuint64")
		check("GetAs[uint64](max)", v20, ok, uint64(18446744073709551615), true)
		v21, ok := GetAs[int64](s, "maxuint64")
		check("GetAs[int64](max uint64)", v21, ok, 0, false)
		v22, ok := GetAs[any](s, "str")
		check("GetAs[any]", v22, ok, "hi", true)
		v23, ok := GetAs[map[string]any](s, "profile")
		check("GetAs[map]", v23["name"], ok, "Ann", true)
		v24, ok := GetAs[[]int](s, "list")
		check("GetAs[[]int](strings)", v24, ok, nil, false)
		// A value set in this request keeps its Go type.
		s.Set("p", profile{Name: "Bo"})
		v25, ok := GetAs[profile](s, "p")
		check("GetAs[profile](set)", v25.Name, ok, "Bo", true)
	}, cookie)
}

func TestErrNoSessionOutsideMiddleware(t *testing.T) {
	ctx := context.Background()
	if s, err := GetSession(ctx); s != nil || !errors.Is(err, ErrNoSession) {
		t.Errorf("GetSession: %v, %v", s, err)
	}
	if s, err := RegenerateSession(ctx); s != nil || !errors.Is(err, ErrNoSession) {
		t.Errorf("RegenerateSession: %v, %v", s, err)
	}
	for name, err := range map[string]error{
		"Login":     Login(ctx, "u"),
		"LoginKeep": LoginKeep(ctx, "u", "k"),
		"Logout":    Logout(ctx),
		"Destroy":   Destroy(ctx),
		"Commit":    Commit(ctx),
	} {
		if !errors.Is(err, ErrNoSession) {
			t.Errorf("%s: err %v, want ErrNoSession", name, err)
		}
	}
	if id, ok := UserID(ctx); id != "" || ok {
		t.Errorf("UserID: %q, %v", id, ok)
	}
	//lint:ignore SA1012 a nil context must not panic
	if _, err := GetSession(nil); !errors.Is(err, ErrNoSession) { //nolint:staticcheck
		t.Errorf("GetSession(nil): %v", err)
	}
}

func TestPanickingHandlerSavesNothing(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	rec := httptest.NewRecorder()
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("k", "v")
		Login(r.Context(), "u")
		panic("boom")
	}))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the handler's panic", p)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		t.Error("panic did not propagate")
	}()
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("panicking handler saved %q", got)
	}
	if errs := e.errors(); len(errs) != 0 {
		t.Errorf("error handler called: %v", errs)
	}
}
