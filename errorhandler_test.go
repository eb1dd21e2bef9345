package sessions

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
)

// TestDefaultErrorHandler: without an ErrorHandler, an error before the
// headers went out is logged and answered with a plain 500 (the handler's
// headers and body dropped, no cookie, the previous cookie kept); one after
// them is only logged, the response left as it was.
func TestDefaultErrorHandler(t *testing.T) {
	t.Run("before the headers", func(t *testing.T) {
		logs := &Logs{}
		m, err := New(SessionConfig{SecretKey: TestKey, Logger: slog.New(logs)})
		if err != nil {
			t.Fatal(err)
		}
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
		if res.Status != http.StatusInternalServerError || strings.Contains(res.Body, "handler body") || res.Header.Get("X-Handler") != "" || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("oversized session: %d %q %v; want a plain 500 without the handler's headers or a cookie", res.Status, res.Body, res.Header)
		}
		if errs := logs.Errors(); len(errs) != 1 || !errors.Is(errs[0], ErrCookieTooLarge) {
			t.Errorf("logged %v, want ErrCookieTooLarge", errs)
		}
		if body := srv.Get("/").Body; body != "small" {
			t.Errorf("previous cookie lost: read %q, want small", body)
		}
	})
	t.Run("after the headers", func(t *testing.T) {
		logs := &Logs{}
		m, err := New(SessionConfig{SecretKey: TestKey, Logger: slog.New(logs)})
		if err != nil {
			t.Fatal(err)
		}
		rec := testkit.Get(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := MustSession(t, r)
			io.WriteString(w, "ok")
			s.Set("late", 1)
		})))
		errs := logs.Errors()
		found := len(errs) == 1 && errors.Is(errs[0], ErrHeadersWritten)
		if !found || rec.Code != 200 || rec.Body.String() != "ok" {
			t.Errorf("default handler: logged %v, response %d %q; want ErrHeadersWritten logged, 200 ok", errs, rec.Code, rec.Body)
		}
	})
}
