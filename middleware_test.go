package sessions_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "untouched request")
	// The session cookie alone makes the response vary on it: a helper
	// could have read the session after the headers went out.
	assert.Equal(t, []string{"Cookie"}, rec.Header().Values("Vary"), "untouched request with a session cookie")
	assert.Zero(t, counting.decodes, "untouched request: decodes")

	// Reading decodes once per request, however often GetSession is called.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			s := sessions.MustSession(t, r)
			v, _ := sessions.GetAs[int](s, "a")
			assert.Equal(t, 1, v)
		}
	}, cookie)
	assert.Equal(t, 1, counting.decodes, "reading request: decodes")
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "read-only request")
	assert.Equal(t, "Cookie", rec.Header().Get("Vary"), "read-only request")

	// A new session that stays empty is not written either.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.MustSession(t, r)
		s.Get("missing")
		s.Delete("missing")
		s.Clear()
	}, "")
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "empty new session")
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
		written := testkit.SetCookie(t, rec.Header(), "session") != nil
		assert.Equal(t, tt.write, written, "%s: cookie written", tt.name)
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
			assert.NoError(t, sessions.Commit(r.Context()), "Commit with nothing to save")
			sessions.MustSession(t, r).Set("late", 1)
			assert.ErrorIs(t, sessions.Commit(r.Context()), sessions.ErrHeadersWritten, "Commit of a change that needs a cookie")
		}},
		{"Login after Write", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "body")
			assert.ErrorIs(t, sessions.Login(r.Context(), "u1"), sessions.ErrHeadersWritten, "Login")
			sessions.MustSession(t, r).Set("late", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{})
			rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, "")
			errs := e.Errors()
			require.Len(t, errs, 1, "error handler calls")
			assert.ErrorIs(t, errs[0], sessions.ErrHeadersWritten)
			// The response is not changed after the headers went out.
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.NotEqual(t, "session error", rec.Body.String())
		})
	}
}

func perfMiddleware(t *testing.T) *sessions.Middleware {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey})
	require.NoError(t, err)
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
	require.NotEmpty(t, cookie, "no Set-Cookie to seed the request with")
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
		assert.LessOrEqual(t, got, 2.0, "%T: untouched request: allocations", w)
		assert.Empty(t, w.Header().Get("Set-Cookie"), "%T: untouched request", w)
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
					assert.IsType(t, boom{}, got, "%s: recovered the handler's panic", name)
					assert.Empty(t, w.Result().Header.Values("Set-Cookie"), "%s: Set-Cookie after a panic", name)
				}
			}
			assert.Empty(t, e.Errors(), "error handler calls")
			if mode == "store" {
				// Logout and Login delete the old record at once (so that
				// it cannot be replayed), but nothing new is created.
				assert.Equal(t, before, store.CreatedIDs(), "records created by a panicking request")
			} else {
				assert.Equal(t, "alice", e.Load("session="+alice).UserID, "cookie mode: the old cookie must keep working")
			}
		})
	}
}

// TestLateChangesStoreMode: after the body started, a change to a saved
// store-mode session is still saved when the handler returns (a template
// that consumes the flashes), and nothing is reported.
func TestLateChangesStoreMode(t *testing.T) {
	e, _ := newStoreEnv(t)
	c := e.MustVisit("", func(_ *http.Request, s *sessions.Session) { s.AddFlash("info", "saved") }).Cookie
	require.NotEmpty(t, c)
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>"))
		s := sessions.MustSession(t, r)
		assert.Len(t, s.Flashes(), 1)
		s.Set("seen", true)
	}, c)
	var flashes []sessions.Flash
	e.MustVisit(c, func(_ *http.Request, s *sessions.Session) { flashes = s.Flashes() })
	assert.Empty(t, flashes, "the flash consumed after the headers came back")
	assert.Equal(t, true, e.MustVisit(c, nil).Seen.Values["seen"])
	assert.Empty(t, e.Errors())
}

// TestLateChangeNamed: a late change that needs a new cookie goes to the
// error handler as a LateChangeError naming the key, and the default
// handler logs it at warn level, not as a failed request.
func TestLateChangeNamed(t *testing.T) {
	lateCart := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body"))
		sessions.MustSession(t, r).Set("cart", 1)
	}
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	w := e.Do(lateCart, "")
	assert.Equal(t, http.StatusOK, w.Code)
	errs := e.Errors()
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], sessions.ErrHeadersWritten)
	var late *sessions.LateChangeError
	require.ErrorAs(t, errs[0], &late)
	assert.Equal(t, []string{"cart"}, late.Keys)

	// The default error handler, logging as text.
	var logs bytes.Buffer
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	testkit.Get(m.Handler(http.HandlerFunc(lateCart)))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "cart")
	assert.NotContains(t, logs.String(), "request failed")
}

// TestLateLoginChangesNothing: a Login after the body started fails and
// leaves the request's user as it was.
func TestLateLoginChangesNothing(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			c := issueLogin(t, e, "", "alice")
			e.Do(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("body"))
				err := sessions.Login(r.Context(), "bob")
				require.ErrorIs(t, err, sessions.ErrHeadersWritten)
				id, _ := sessions.UserID(r.Context())
				assert.Equal(t, "alice", id, "UserID after a failed Login")
			}, c)
			assert.Equal(t, "alice", userOf(t, e, c))
		})
	}
}

// TestLateLogout: after the body started, Logout still ends a store-mode
// session (its record goes; the cookie then names nothing). In cookie mode
// it cannot, so it fails and changes nothing.
func TestLateLogout(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{}) {
		t.Run(mode, func(t *testing.T) {
			store := cfg.Store != nil
			e := sessions.NewEnv(t, cfg)
			c := issueLogin(t, e, "", "alice")
			e.Do(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("body"))
				err := sessions.Logout(r.Context())
				id, _ := sessions.UserID(r.Context())
				if store {
					assert.NoError(t, err)
					assert.Empty(t, id)
				} else {
					assert.ErrorIs(t, err, sessions.ErrHeadersWritten)
					assert.Equal(t, "alice", id, "UserID after a failed Logout")
				}
			}, c)
			if store {
				assert.Empty(t, userOf(t, e, c), "logged out")
			} else {
				assert.Equal(t, "alice", userOf(t, e, c))
			}
			assert.Empty(t, e.Errors())
		})
	}
}

// TestAfterHandlerReturns: once the handler returned, GetSession on its
// context fails, and a change through a *Session still held is reported.
func TestAfterHandlerReturns(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	var ctx context.Context
	var s *sessions.Session
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		ctx, s = r.Context(), sessions.MustSession(t, r)
	}, "")
	_, err := sessions.GetSession(ctx)
	require.ErrorIs(t, err, sessions.ErrRequestDone)
	s.Set("late", 1)
	errs := e.Errors()
	require.Len(t, errs, 1)
	var late *sessions.LateChangeError
	require.ErrorAs(t, errs[0], &late)
	assert.True(t, late.AfterHandler)
	assert.Contains(t, late.Error(), `Set("late")`)
}
