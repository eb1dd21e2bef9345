package redisstore_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/stretchr/testify/require"
)

// BenchmarkRequest measures the middleware's cost per request (no network
// between client and handler; Redis over loopback) for a session that is
// read, and for one that is written, in cookie mode and with each store.
//
//	cd redisstore && go test -run '^$' -bench Request -benchmem
func BenchmarkRequest(b *testing.B) {
	stores := []struct {
		name string
		new  func(b *testing.B) sessions.Store
	}{
		{"cookie", func(*testing.B) sessions.Store { return nil }},
		{"memstore", func(b *testing.B) sessions.Store {
			s := memstore.New()
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"redisstore", func(b *testing.B) sessions.Store {
			rdb := sharedClient(b)
			return redisstore.New(rdb, redisstore.WithPrefix(testPrefix(b, rdb)))
		}},
	}
	for _, st := range stores {
		m, err := sessions.New(sessions.SessionConfig{
			SecretKey: mwKey,
			Store:     st.new(b),
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(b, err)
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := sessions.GetSession(r.Context())
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := sessions.GetAs[int](s, "n")
			if r.URL.Path == "/write" {
				s.Set("n", n+1)
			}
			io.WriteString(w, strconv.Itoa(n))
		}))
		// A logged-in session with a little data.
		login := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sessions.Login(r.Context(), "bench-user")
			s, _ := sessions.GetSession(r.Context())
			s.Set("cart", []string{"apple", "pear"})
			s.Set("n", 0)
		})).ServeHTTP(login, httptest.NewRequest("GET", "/", nil))
		cookie := login.Result().Cookies()[0]
		for _, op := range []string{"read", "write"} {
			b.Run(st.name+"/"+op, func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest("GET", "/"+op, nil)
					req.AddCookie(cookie)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("status %d", w.Code)
					}
					if op == "write" {
						// Keep the latest cookie, as a browser would.
						for _, c := range w.Result().Cookies() {
							cookie = c
						}
					}
				}
			})
		}
	}
}
