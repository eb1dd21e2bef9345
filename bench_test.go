package sessions

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Benchmarks of one request through the middleware, served straight to a
// reusable ResponseWriter (no network). Run them with
//
//	go test -run '^$' -bench . -benchmem
//
// BenchmarkFloor is the same request with no middleware: the cost of the
// harness itself, to subtract from the others.

// benchWriter is a ResponseWriter that forgets everything, so that the
// benchmarks measure the middleware, not a recorder.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(int)             {}

func (w *benchWriter) reset() { clear(w.h) }

func benchMiddleware(b *testing.B) *Middleware {
	b.Helper()
	m, err := New(SessionConfig{
		SecretKey: TestKey,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(b, err)
	return m
}

// benchServe serves n requests of h, each carrying cookie when not empty.
func benchServe(b *testing.B, h http.Handler, cookie string) {
	b.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", "session="+cookie)
	}
	w := &benchWriter{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

// benchCookie is a typical logged-in session: a user id, a few values.
func benchCookie(b *testing.B, m *Middleware) string {
	b.Helper()
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Login(r.Context(), "user-1234")
		s, _ := GetSession(r.Context())
		s.Set("theme", "dark")
		s.Set("cart", []any{17, 42})
		s.Set("lang", "en-GB")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := rec.Result().Cookies()
	require.Len(b, c, 1, "no cookie: %v", rec.Header())
	return c[0].Value
}

// BenchmarkFloor: a handler that writes a body, without the middleware.
func BenchmarkFloor(b *testing.B) {
	benchServe(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), "")
}

// BenchmarkUntouched: the middleware around a handler that never asks for
// its session, with a session cookie in the request.
func BenchmarkUntouched(b *testing.B) {
	m := benchMiddleware(b)
	benchServe(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})), benchCookie(b, m))
}

// BenchmarkNew: no cookie; the handler stores one value, so a new session
// is encoded, signed and set.
func BenchmarkNew(b *testing.B) {
	m := benchMiddleware(b)
	benchServe(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("theme", "dark")
		io.WriteString(w, "ok")
	})), "")
}

// BenchmarkRead: a logged-in session is verified, decoded and read; nothing
// is written back.
func BenchmarkRead(b *testing.B) {
	m := benchMiddleware(b)
	benchServe(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		if v, _ := GetAs[string](s, "theme"); v != "dark" {
			b.Fatal("session not read")
		}
		io.WriteString(w, "ok")
	})), benchCookie(b, m))
}

// BenchmarkWrite: a logged-in session is read, changed and written back.
func BenchmarkWrite(b *testing.B) {
	m := benchMiddleware(b)
	benchServe(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("last", time.Unix(1700000000, 0).Unix())
		io.WriteString(w, "ok")
	})), benchCookie(b, m))
}

// BenchmarkFormats: a typical session encoded and decoded in every format.
// The loops check errors without testify, to measure the formats only.
func BenchmarkFormats(b *testing.B) {
	values := map[string]any{"user": "ann", "cart": []any{"apple", "pear"}, "n": 42, "theme": "dark"}
	for _, f := range Formats() {
		m := NewEnv(b, SessionConfig{Format: f}).M
		v, err := m.Encode(values)
		require.NoError(b, err)
		b.Run(f.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Encode(values); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Decode(context.Background(), v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
