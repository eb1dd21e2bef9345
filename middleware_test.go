package sessions_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
)

// Helpers of the middleware tests. Every name starts with "mw" so that the
// package's other test files can use short names.

// countingCodec counts Decode calls of the codec it wraps.
type countingCodec struct {
	sessions.Codec
	mu      sync.Mutex
	decodes int
}

func (c *countingCodec) Decode(v string, now time.Time) (sessions.Decoded, error) {
	c.mu.Lock()
	c.decodes++
	c.mu.Unlock()
	return c.Codec.Decode(v, now)
}

func TestLazyUntouchedRequest(t *testing.T) {
	plain := sessions.NewEnv(t, sessions.SessionConfig{})
	counting := &countingCodec{Codec: sessions.CodecOf(plain.M)}
	e := sessions.NewEnv(t, sessions.SessionConfig{Codec: counting})
	cookie := e.Mint(map[string]any{"a": 1})

	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
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
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			s := sessions.MustSession(t, r)
			if v, _ := sessions.GetAs[int](s, "a"); v != 1 {
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
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.MustSession(t, r)
		s.Get("missing")
		s.Delete("missing")
		s.Clear()
	}, "")
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("empty new session: Set-Cookie %q, want none", got)
	}
}

func TestOnlyChangedSessionsWritten(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	cookie := e.Mint(map[string]any{"n": 1, "list": []any{1}, "obj": map[string]any{"a": "b"}})
	tests := []struct {
		name  string
		h     func(s *sessions.Session)
		write bool
	}{
		{"read only", func(s *sessions.Session) { s.Get("n"); s.Keys(); s.Len() }, false},
		{"read maps and slices unchanged", func(s *sessions.Session) { s.Get("list"); s.Get("obj") }, false},
		{"delete missing key", func(s *sessions.Session) { s.Delete("nope") }, false},
		{"reserved key ignored", func(s *sessions.Session) { s.Set(sessions.ReservedKey, "x"); s.Delete(sessions.ReservedKey) }, false},
		{"flashes when none", func(s *sessions.Session) { s.Flashes() }, false},
		{"set", func(s *sessions.Session) { s.Set("n", 2) }, true},
		{"set same value", func(s *sessions.Session) { s.Set("n", 1) }, true},
		{"delete", func(s *sessions.Session) { s.Delete("n") }, true},
		{"clear", func(s *sessions.Session) { s.Clear() }, true},
		{"add flash", func(s *sessions.Session) { s.AddFlash("info", "hi") }, true},
	}
	for _, tt := range tests {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(sessions.MustSession(t, r)) }, cookie)
		got := testkit.SetCookie(t, rec.Header(), "session") != nil
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
			s := sessions.MustSession(t, r)
			io.WriteString(w, "body")
			s.Set("late", true)
		}},
		{"in-place change after WriteHeader", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := sessions.MustSession(t, r)
			s.Set("m", map[string]any{})
			w.WriteHeader(http.StatusOK)
			m, _ := s.Get("m")
			m.(map[string]any)["late"] = true
		}},
		{"Commit after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			sessions.MustSession(t, r)
			io.WriteString(w, "body")
			if err := sessions.Commit(r.Context()); !errors.Is(err, sessions.ErrHeadersWritten) {
				t.Errorf("Commit: err %v, want ErrHeadersWritten", err)
			}
			sessions.MustSession(t, r).Set("late", 1)
		}},
		{"Login after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "body")
			if err := sessions.Login(r.Context(), "u1"); !errors.Is(err, sessions.ErrHeadersWritten) {
				t.Errorf("Login: err %v, want ErrHeadersWritten", err)
			}
			sessions.MustSession(t, r).Set("late", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{})
			rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, "")
			if errs := e.Errors(); len(errs) != 1 || !errors.Is(errs[0], sessions.ErrHeadersWritten) {
				t.Errorf("error handler got %v, want [ErrHeadersWritten]", errs)
			}
			if rec.Code != http.StatusOK || rec.Body.String() == "session error" {
				t.Errorf("response changed after the headers went out: %d %q", rec.Code, rec.Body)
			}
		})
	}
}

func perfMiddleware(t *testing.T) *sessions.Middleware {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{SecretKey: strings.Repeat("k", 32)})
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
		s, _ := sessions.GetSession(r.Context())
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
			store := faultstore.NewMem(t)
			cfg := sessions.SessionConfig{}
			if mode == "store" {
				cfg.Store = store
			}
			e := sessions.NewEnv(t, cfg)
			alice := e.Issue("alice", nil)
			before := store.CreatedIDs()
			acts := map[string]func(r *http.Request){
				"set":    func(r *http.Request) { s, _ := sessions.GetSession(r.Context()); s.Set("k", "v") },
				"login":  func(r *http.Request) { sessions.Login(r.Context(), "mallory") },
				"logout": func(r *http.Request) { sessions.Logout(r.Context()) },
				"set and login": func(r *http.Request) {
					sessions.MustSession(t, r).Set("k", "v")
					sessions.Login(r.Context(), "u")
				},
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
						e.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			if errs := e.Errors(); len(errs) != 0 {
				t.Errorf("error handler called: %v", errs)
			}
			if mode == "store" {
				// Logout and Login delete the old record at once (so that
				// it cannot be replayed), but nothing new is created.
				after := store.CreatedIDs()
				for _, id := range after {
					if !slices.Contains(before, id) {
						t.Errorf("a record was created by a panicking request: %s", id)
					}
				}
			} else if got := e.Load("session=" + alice).UserID; got != "alice" {
				t.Errorf("cookie mode: the old cookie stopped working: user %q", got)
			}
		})
	}
}
