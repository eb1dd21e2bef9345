package sessions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const changesKey = "changes-test-secret-key-0123456789abcdef"

// changesEnv is a middleware (cookie or store mode) whose error handler
// records what it gets, and a log capture.
type changesEnv struct {
	m    *sessions.Middleware
	mu   sync.Mutex
	errs []error
}

func newChangesEnv(t *testing.T, store bool) *changesEnv {
	t.Helper()
	e := &changesEnv{}
	cfg := sessions.SessionConfig{SecretKey: changesKey}
	if store {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		cfg.Store = s
	}
	cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		e.mu.Lock()
		e.errs = append(e.errs, err)
		e.mu.Unlock()
		if !errors.Is(err, sessions.ErrHeadersWritten) {
			http.Error(w, "session error", http.StatusInternalServerError)
		}
	}
	m, err := sessions.New(cfg)
	require.NoError(t, err)
	e.m = m
	return e
}

func (e *changesEnv) errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// do serves one request to h with cookie (a session cookie value, or "")
// and returns the response and the session cookie it sets ("" if none).
func (e *changesEnv) do(t *testing.T, cookie string, h func(w http.ResponseWriter, r *http.Request)) (*httptest.ResponseRecorder, string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessions.DefaultCookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	e.m.Handler(http.HandlerFunc(h)).ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == sessions.DefaultCookieName && c.MaxAge >= 0 {
			return w, c.Value
		}
	}
	return w, ""
}

func session(t *testing.T, r *http.Request) *sessions.Session {
	t.Helper()
	s, err := sessions.GetSession(r.Context())
	require.NoError(t, err)
	return s
}

// read returns the session's value under key on a new request.
func (e *changesEnv) read(t *testing.T, cookie, key string) any {
	t.Helper()
	var v any
	e.do(t, cookie, func(w http.ResponseWriter, r *http.Request) { v, _ = session(t, r).Get(key) })
	return v
}

func changeModes(t *testing.T, f func(t *testing.T, store bool)) {
	t.Run("cookie", func(t *testing.T) { f(t, false) })
	t.Run("store", func(t *testing.T) { f(t, true) })
}

type prefs struct {
	Theme string `json:"theme"`
	Size  int    `json:"size"`
}

// TestGetAsEditsStick: a map or pointer from GetAs is the session's own,
// so an in-place edit is saved on a later request too, and later Get and
// GetAs calls return the same object.
func TestGetAsEditsStick(t *testing.T) {
	changeModes(t, func(t *testing.T, store bool) {
		e := newChangesEnv(t, store)
		_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
			s := session(t, r)
			s.Set("cart", map[string]int{"apple": 1})
			s.Set("prefs", prefs{Theme: "light", Size: 1})
		})
		require.NotEmpty(t, c)
		_, c2 := e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
			s := session(t, r)
			cart, ok := sessions.GetAs[map[string]int](s, "cart")
			require.True(t, ok)
			cart["apple"]++
			p, ok := sessions.GetAs[*prefs](s, "prefs")
			require.True(t, ok)
			p.Theme = "dark"
			again, _ := sessions.GetAs[*prefs](s, "prefs")
			assert.Same(t, p, again, "a second GetAs returns the same object")
			raw, _ := s.Get("prefs")
			assert.Same(t, p, raw, "Get returns the converted object")
		})
		if c2 == "" {
			c2 = c // store mode: the id cookie need not change
		}
		assert.Equal(t, map[string]any{"apple": json.Number("2")}, e.read(t, c2, "cart"))
		assert.Equal(t, map[string]any{"theme": "dark", "size": json.Number("1")}, e.read(t, c2, "prefs"))
		assert.Empty(t, e.errors())
	})
}

// TestGetAsConversionIsNoChange: converting alone writes nothing.
func TestGetAsConversionIsNoChange(t *testing.T) {
	e := newChangesEnv(t, false)
	_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		session(t, r).Set("prefs", prefs{Theme: "light"})
	})
	_, c2 := e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
		_, ok := sessions.GetAs[*prefs](session(t, r), "prefs")
		require.True(t, ok)
	})
	assert.Empty(t, c2, "no Set-Cookie for a conversion without an edit")
}

// TestLateChangesStoreMode: after the body started, a change to a saved
// store-mode session is still saved when the handler returns (a template
// that consumes the flashes), and nothing is reported.
func TestLateChangesStoreMode(t *testing.T) {
	e := newChangesEnv(t, true)
	_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		session(t, r).AddFlash("info", "saved")
	})
	require.NotEmpty(t, c)
	e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>"))
		s := session(t, r)
		assert.Len(t, s.Flashes(), 1)
		s.Set("seen", true)
	})
	var flashes []sessions.Flash
	e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
		flashes = session(t, r).Flashes()
	})
	assert.Empty(t, flashes, "the flash consumed after the headers came back")
	assert.Equal(t, true, e.read(t, c, "seen"))
	assert.Empty(t, e.errors())
}

// TestLateChangeNamed: a late change that needs a new cookie goes to the
// error handler as a LateChangeError naming the key, and the default
// handler logs it at warn level, not as a failed request.
func TestLateChangeNamed(t *testing.T) {
	e := newChangesEnv(t, false)
	w, _ := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body"))
		session(t, r).Set("cart", 1)
	})
	assert.Equal(t, http.StatusOK, w.Code)
	errs := e.errors()
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], sessions.ErrHeadersWritten)
	var late *sessions.LateChangeError
	require.ErrorAs(t, errs[0], &late)
	assert.Equal(t, []string{"cart"}, late.Keys)

	var logs bytes.Buffer
	m, err := sessions.New(sessions.SessionConfig{SecretKey: changesKey, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body"))
		session(t, r).Set("cart", 1)
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "cart")
	assert.NotContains(t, logs.String(), "request failed")
}

// TestLateLoginChangesNothing: a Login after the body started fails and
// leaves the request's user as it was.
func TestLateLoginChangesNothing(t *testing.T) {
	changeModes(t, func(t *testing.T, store bool) {
		e := newChangesEnv(t, store)
		_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, sessions.Login(r.Context(), "alice"))
		})
		e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("body"))
			err := sessions.Login(r.Context(), "bob")
			require.ErrorIs(t, err, sessions.ErrHeadersWritten)
			id, _ := sessions.UserID(r.Context())
			assert.Equal(t, "alice", id, "UserID after a failed Login")
		})
		var id string
		e.do(t, c, func(w http.ResponseWriter, r *http.Request) { id, _ = sessions.UserID(r.Context()) })
		assert.Equal(t, "alice", id)
	})
}

// TestLateLogout: after the body started, Logout still ends a store-mode
// session (its record goes; the cookie then names nothing). In cookie mode
// it cannot, so it fails and changes nothing.
func TestLateLogout(t *testing.T) {
	changeModes(t, func(t *testing.T, store bool) {
		e := newChangesEnv(t, store)
		_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, sessions.Login(r.Context(), "alice"))
		})
		e.do(t, c, func(w http.ResponseWriter, r *http.Request) {
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
		})
		var id string
		e.do(t, c, func(w http.ResponseWriter, r *http.Request) { id, _ = sessions.UserID(r.Context()) })
		if store {
			assert.Empty(t, id, "logged out")
		} else {
			assert.Equal(t, "alice", id)
		}
		assert.Empty(t, e.errors())
	})
}

// TestAfterHandlerReturns: once the handler returned, GetSession on its
// context fails, and a change through a *Session still held is reported.
func TestAfterHandlerReturns(t *testing.T) {
	e := newChangesEnv(t, false)
	var ctx context.Context
	var s *sessions.Session
	e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		ctx, s = r.Context(), session(t, r)
	})
	_, err := sessions.GetSession(ctx)
	require.ErrorIs(t, err, sessions.ErrRequestDone)
	s.Set("late", 1)
	errs := e.errors()
	require.Len(t, errs, 1)
	var late *sessions.LateChangeError
	require.ErrorAs(t, errs[0], &late)
	assert.True(t, late.AfterHandler)
	assert.Contains(t, late.Error(), `Set("late")`)
}

// cyclic returns a map that contains itself.
func cyclic() map[string]any {
	m := map[string]any{}
	m["self"] = m
	return m
}

// TestWriterRefusesWhatReaderRejects: a value the decoder would refuse is
// an error naming its key before anything is written, and the previous
// cookie (or record) keeps the session.
func TestWriterRefusesWhatReaderRejects(t *testing.T) {
	deep := any("x")
	for range 40 {
		deep = []any{deep}
	}
	cases := []struct {
		name  string
		value any
		want  string
	}{
		{"deep", deep, "nesting deeper than 32"},
		{"utf8", "bad\xffbyte", "not valid UTF-8"},
		{"keys", map[string]int{"\xff": 1, "\xfe": 2}, "duplicate key"},
		{"cycle", cyclic(), "contains itself"},
		{"chan", make(chan int), "unsupported type: chan int"},
	}
	changeModes(t, func(t *testing.T, store bool) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newChangesEnv(t, store)
				_, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) { session(t, r).Set("keep", "v") })
				w, c2 := e.do(t, c, func(w http.ResponseWriter, r *http.Request) { session(t, r).Set(tc.name, tc.value) })
				assert.Equal(t, http.StatusInternalServerError, w.Code)
				assert.Empty(t, c2, "no cookie for a session that cannot be saved")
				errs := e.errors()
				require.Len(t, errs, 1)
				assert.ErrorContains(t, errs[0], `key "`+tc.name+`"`)
				assert.ErrorContains(t, errs[0], tc.want)
				assert.Equal(t, "v", e.read(t, c, "keep"), "the previous session is intact")
			})
		}
	})
}

// TestPayloadOverInflateCap: a session that would compress into a cookie
// but inflate past the reader's cap is refused, with its size and keys.
func TestPayloadOverInflateCap(t *testing.T) {
	e := newChangesEnv(t, false)
	w, c := e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		session(t, r).Set("big", strings.Repeat("a", 70000))
	})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Empty(t, c)
	errs := e.errors()
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], sessions.ErrCookieTooLarge)
	assert.ErrorContains(t, errs[0], `"big" (`)
}

// TestCookieTooLargeSays: the size error gives the cookie's size and its
// largest keys.
func TestCookieTooLargeSays(t *testing.T) {
	e := newChangesEnv(t, false)
	e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
		s := session(t, r)
		s.Set("small", 1)
		s.Set("notes", noise(5000))
	})
	errs := e.errors()
	require.Len(t, errs, 1)
	var tl *sessions.CookieTooLargeError
	require.ErrorAs(t, errs[0], &tl)
	assert.Greater(t, tl.Size, sessions.MaxCookieSize)
	assert.Equal(t, sessions.MaxCookieSize, tl.Limit)
	require.NotEmpty(t, tl.Largest)
	assert.True(t, strings.HasPrefix(tl.Largest[0], `"notes" (`), "largest first: %v", tl.Largest)
}

// noise returns n bytes of text zlib cannot shrink much.
func noise(n int) string {
	var b strings.Builder
	x := uint32(1)
	for b.Len() < n {
		x = x*1664525 + 1013904223
		b.WriteByte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"[x>>26])
	}
	return b.String()
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// TestEncodePanicReleasesLocks: a value whose encoding panics leaves no
// lock held, so a handler that recovers can go on using the session.
func TestEncodePanicReleasesLocks(t *testing.T) {
	e := newChangesEnv(t, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.do(t, "", func(w http.ResponseWriter, r *http.Request) {
			s := session(t, r)
			s.Set("p", panicky{})
			func() {
				defer func() { assert.Equal(t, "boom", recover()) }()
				sessions.Commit(r.Context())
			}()
			s.Delete("p")
			s.Set("ok", 1)
			_, err := sessions.GetSession(r.Context())
			assert.NoError(t, err)
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session stayed locked after a panic while encoding")
	}
}
