package sessions

import (
	"io"
	"log/slog"
	"net/http"
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
