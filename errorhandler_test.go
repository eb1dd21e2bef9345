package sessions

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultErrorHandler: without an ErrorHandler, an error before the
// headers went out is logged and answered with a plain 500 (the handler's
// headers and body dropped, no cookie, the previous cookie kept); one after
// them is only logged, the response left as it was.
func TestDefaultErrorHandler(t *testing.T) {
	t.Run("before the headers", func(t *testing.T) {
		logs := &Logs{}
		m, err := New(SessionConfig{SecretKey: TestKey, Logger: slog.New(logs)})
		require.NoError(t, err)
		srv := testkit.NewServer(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := MustSession(t, r)
			switch r.URL.Path {
			case "/small":
				s.Set("v", "small")
			case "/big":
				s.Set("v", Incompressible(MaxCookieSize))
				w.Header().Set("X-Handler", "1")
				io.WriteString(w, "handler body")
				return
			}
			v, _ := GetAs[string](s, "v")
			io.WriteString(w, v)
		})))
		srv.Get("/small")
		res := srv.Get("/big")
		assert.Equal(t, http.StatusInternalServerError, res.Status)
		assert.NotContains(t, res.Body, "handler body")
		assert.Empty(t, res.Header.Get("X-Handler"), "the handler's headers")
		assert.Empty(t, res.Header.Values("Set-Cookie"))
		errs := logs.Errors()
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrCookieTooLarge)
		assert.Equal(t, "small", srv.Get("/").Body, "the previous cookie")
	})
	t.Run("after the headers", func(t *testing.T) {
		logs := &Logs{}
		m, err := New(SessionConfig{SecretKey: TestKey, Logger: slog.New(logs)})
		require.NoError(t, err)
		rec := testkit.Get(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := MustSession(t, r)
			io.WriteString(w, "ok")
			s.Set("late", 1)
		})))
		assert.Empty(t, logs.Errors(), "a late change is no failed request")
		errs := logs.Warnings()
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrHeadersWritten)
		assert.ErrorContains(t, errs[0], "late", "the key")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "ok", rec.Body.String())
	})
}

// outerHeaders sets headers the way middleware outside ours does: HSTS,
// CSP, CORS, a cookie of its own and, to go past the inline storage, more.
func outerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000")
		h.Set("Content-Security-Policy", "default-src 'self'")
		h.Set("Access-Control-Allow-Origin", "https://app.example.com")
		h.Add("Set-Cookie", "csrf=abc; Path=/")
		for i := range 8 {
			h.Set("X-Outer-"+strconv.Itoa(i), "1")
		}
		next.ServeHTTP(w, r)
	})
}

// TestSecurityResponseErrorReplyKeepsOuterHeaders: the default error
// reply drops what the handler set and our session cookie, and keeps the
// headers set before the middleware ran.
func TestSecurityResponseErrorReplyKeepsOuterHeaders(t *testing.T) {
	logs := &Logs{}
	m, err := New(SessionConfig{SecretKey: TestKey, Logger: slog.New(logs)})
	require.NoError(t, err)
	big := Incompressible(8000) // too large for a cookie
	for _, commitFirst := range []bool{false, true} {
		h := outerHeaders(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Handler", "1")
			w.Header().Set("Content-Disposition", "attachment")
			s := MustSession(t, r)
			if commitFirst {
				s.Set("small", "v")
				require.NoError(t, Commit(r.Context()))
			}
			s.Set("big", big) // too large for a cookie: the commit fails
			w.Write([]byte("page"))
		})))
		rec := testkit.Get(h)
		res := rec.Result()
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.Equal(t, "max-age=63072000", res.Header.Get("Strict-Transport-Security"))
		assert.Equal(t, "default-src 'self'", res.Header.Get("Content-Security-Policy"))
		assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
		for i := range 8 {
			assert.Equal(t, "1", res.Header.Get("X-Outer-"+strconv.Itoa(i)))
		}
		assert.Equal(t, []string{"csrf=abc; Path=/"}, res.Header["Set-Cookie"], "commit first %v", commitFirst)
		assert.Empty(t, res.Header.Get("X-Handler"))
		assert.Empty(t, res.Header.Get("Content-Disposition"))
	}
}

// TestSecurityResponseErrorReplyAllocs: noting the outer headers costs no
// allocation: an untouched request allocates as much with eight outer
// headers as with none.
func TestSecurityResponseErrorReplyAllocs(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	h := e.M.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, testkit.Origin+"/", nil)
	bare := &benchWriter{h: http.Header{}}
	withOuter := &benchWriter{h: http.Header{}}
	outerHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(withOuter, req)
	for i := 4; i < 8; i++ {
		withOuter.h.Del("X-Outer-" + strconv.Itoa(i)) // eight keys left, all inline
	}
	require.Len(t, withOuter.h, 8)
	a := testing.AllocsPerRun(200, func() { h.ServeHTTP(bare, req) })
	b := testing.AllocsPerRun(200, func() { h.ServeHTTP(withOuter, req) })
	assert.Equal(t, a, b, "allocations with no outer headers, with eight")
	require.Len(t, bare.h, 0, "an untouched request gets no headers")
}
