package sessions

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the middleware tests. Every name starts with "mw" so that the
// package's other test files can use short names.

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

func perfMiddleware(t *testing.T) *Middleware {
	t.Helper()
	m, err := New(SessionConfig{SecretKey: strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUntouchedAllocations: a request that never asks for its session
// costs two allocations (the state, which is also the context and the
// writer wrapper, and the request copy), whatever the writer.
func TestUntouchedAllocations(t *testing.T) {
	m := perfMiddleware(t)
	seed := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("a", 1)
	})).ServeHTTP(seed, httptest.NewRequest("GET", "/", nil))
	cookie := seed.Header().Get("Set-Cookie")
	if cookie == "" {
		t.Fatal("no Set-Cookie to seed the request with")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", strings.SplitN(cookie, ";", 2)[0])

	nothing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := m.Handler(nothing)
	for _, w := range []http.ResponseWriter{
		httptest.NewRecorder(), // Flusher only
		plainWriter{h: http.Header{}},
		fullWriter{plainWriter{h: http.Header{}}},
	} {
		got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
		if got > 2 {
			t.Errorf("%T: untouched request: %v allocations, want at most 2", w, got)
		}
		if v := w.Header().Get("Set-Cookie"); v != "" {
			t.Errorf("%T: untouched request got Set-Cookie %q", w, v)
		}
	}
}

type plainWriter struct{ h http.Header }

func (w plainWriter) Header() http.Header { return w.h }

func (plainWriter) Write(p []byte) (int, error) { return len(p), nil }

func (plainWriter) WriteHeader(int) {}

type fullWriter struct{ plainWriter }

func (fullWriter) Flush() {}

func (fullWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("not hijackable")
}

func (fullWriter) ReadFrom(r io.Reader) (int64, error) { return 0, nil }

// A handler that panics saves nothing, and the panic reaches the caller
// (net/http's recovery, or the application's own).
func TestSecurityResponsePanicSavesNothing(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			store := newSecMapStore()
			cfg := SessionConfig{}
			if mode == "store" {
				cfg.Store = store
			}
			m := secNew(t, cfg)
			alice := secIssue(t, m, "alice", nil)
			before := store.ids()
			acts := map[string]func(r *http.Request){
				"set":    func(r *http.Request) { s, _ := GetSession(r.Context()); s.Set("k", "v") },
				"login":  func(r *http.Request) { Login(r.Context(), "mallory") },
				"logout": func(r *http.Request) { Logout(r.Context()) },
			}
			for name, act := range acts {
				for _, cookies := range [][]string{nil, {"session=" + alice}} {
					type boom struct{}
					w := httptest.NewRecorder()
					r := httptest.NewRequest(http.MethodGet, "/", nil)
					for _, c := range cookies {
						r.Header.Add("Cookie", c)
					}
					got := func() (p any) {
						defer func() { p = recover() }()
						m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							act(r)
							panic(boom{})
						})).ServeHTTP(w, r)
						return nil
					}()
					if _, ok := got.(boom); !ok {
						t.Errorf("%s: recovered %v, want the handler's panic", name, got)
					}
					if sc := w.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
						t.Errorf("%s: Set-Cookie %q after a panic", name, sc)
					}
				}
			}
			if mode == "store" {
				// Logout and Login delete the old record at once (so that
				// it cannot be replayed), but nothing new is created.
				after := store.ids()
				for _, id := range after {
					if !slices.Contains(before, id) {
						t.Errorf("a record was created by a panicking request: %s", id)
					}
				}
			} else if got := secLoad(t, m, "session="+alice).UserID; got != "alice" {
				t.Errorf("cookie mode: the old cookie stopped working: user %q", got)
			}
		})
	}
}
