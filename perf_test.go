package sessions

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin the properties the fast paths rely on; the timings live
// in the benchmarks module.

// TestCompressThreshold: payloads under 128 bytes (compressMin) are never
// compressed, however well they would shrink; longer ones are compressed
// when zlib makes them shorter, and left as they are when it does not.
func TestCompressThreshold(t *testing.T) {
	c := vectorCodec("session", vectorKey)
	compressed := func(payload string) bool {
		v, err := c.Encode([]byte(payload), vectorTime)
		require.NoError(t, err)
		d, err := c.Decode(v, vectorTime)
		require.NoError(t, err)
		require.Equal(t, payload, string(d.Payload), "round trip")
		return strings.HasPrefix(v, ".")
	}
	repeat := func(n int) string { // {"a":"aaa..."}, n bytes in all
		return `{"a":"` + strings.Repeat("a", n-8) + `"}`
	}
	assert.False(t, compressed(repeat(127)), "127-byte payload")
	assert.True(t, compressed(repeat(128)), "128-byte payload")
	assert.True(t, compressed(repeat(3000)), "3000-byte payload")
	// The codec takes any bytes; random ones do not shrink.
	random := make([]byte, 400)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(random)
	assert.False(t, compressed(string(random)), "incompressible payload")
}

// TestSessionCookieLine: the Set-Cookie line made from parts is the one
// http.Cookie.String writes, for every attribute and for values that need
// sanitizing or quoting (which take http.Cookie.String itself).
func TestSessionCookieLine(t *testing.T) {
	key := strings.Repeat("k", 32)
	configs := []SessionConfig{
		{SecretKey: key},
		{SecretKey: key, CookieName: "__Host-s", Secure: true, SameSite: http.SameSiteStrictMode},
		{SecretKey: key, Path: "/app", Domain: "example.com", ScriptReadable: true},
		{SecretKey: key, Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true},
		{SecretKey: key, BrowserSession: true},
	}
	values := []string{
		"eyJhIjoxfQ.ZVPxAA.6wYCRyZsRKsJfc2Tjrfqoc83HAtP2IYBjSozbkHQRvY",
		".eJyrVsosSc0tVrKKBjN0DZR0IAxDGMMIxjCGMUxgjFHFpCuOrQUA3vFn1Q.ZVPxAA.v74",
		"a b", "a,b", `a"b`, "a;b", "a\\b", "é", "",
	}
	for _, cfg := range configs {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			for _, maxAge := range []int{0, 1, 59, 1209600} {
				if (maxAge == 0) != cfg.BrowserSession {
					continue
				}
				c := m.cookieTmpl
				c.Value, c.MaxAge = v, maxAge
				if got, want := m.sessionCookie(v, maxAge), c.String(); got != want {
					t.Errorf("%+v: sessionCookie(%q, %d)\n got %s\nwant %s", cfg, v, maxAge, got, want)
				}
			}
		}
		if !m.cookieLine.ok {
			t.Errorf("%+v: the Set-Cookie line could not be cut into parts", cfg)
		}
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

func (w plainWriter) Header() http.Header       { return w.h }
func (plainWriter) Write(p []byte) (int, error) { return len(p), nil }
func (plainWriter) WriteHeader(int)             {}

type fullWriter struct{ plainWriter }

func (fullWriter) Flush() {}
func (fullWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("not hijackable")
}
func (fullWriter) ReadFrom(r io.Reader) (int64, error) { return 0, nil }

// TestHandlerContext: the context the handler sees is the request's own,
// with the session added: its values, deadline and cancellation come
// through, and contexts derived from it still find the session.
func TestHandlerContext(t *testing.T) {
	m := perfMiddleware(t)
	type key struct{}
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
	deadline, _ := parent.Deadline()
	var checked bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if got := ctx.Value(key{}); got != "v" {
			t.Errorf("Value(parent key) = %v, want v", got)
		}
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("Deadline = %v, %v; want %v, true", d, ok, deadline)
		}
		child, stop := context.WithCancel(context.WithValue(ctx, key{}, "child"))
		defer stop()
		if _, err := GetSession(child); err != nil {
			t.Errorf("GetSession(derived context) = %v", err)
		}
		if ctx.Err() != nil || child.Err() != nil {
			t.Errorf("Err before cancel = %v, %v; want nil", ctx.Err(), child.Err())
		}
		cancel()
		<-child.Done()
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
			t.Errorf("Err after cancel = %v, %v; want context.Canceled", ctx.Err(), child.Err())
		}
		checked = true
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	if !checked {
		t.Fatal("handler did not run")
	}
}

// TestGetAsIntegers: the json.Number fast path of GetAs[int] and
// GetAs[int64] answers as the general conversion does.
func TestGetAsIntegers(t *testing.T) {
	tests := []struct {
		in    json.Number
		want  int64
		ok    bool
		okInt bool // int is 64 bits here; kept separate for clarity
	}{
		{"0", 0, true, true},
		{"42", 42, true, true},
		{"-7", -7, true, true},
		{"9223372036854775807", 9223372036854775807, true, true},
		{"9223372036854775808", 0, false, false},
		{"1e3", 1000, true, true},
		{"2.0", 2, true, true},
		{"1.5", 0, false, false},
		{"-0", 0, true, true},
	}
	for _, tc := range tests {
		s := &Session{scheme: defaultScheme{}, values: map[string]any{"k": tc.in}}
		got64, ok := GetAs[int64](s, "k")
		if ok != tc.ok || got64 != tc.want {
			t.Errorf("GetAs[int64](%s) = %d, %v; want %d, %v", tc.in, got64, ok, tc.want, tc.ok)
		}
		got, ok := GetAs[int](s, "k")
		if ok != tc.okInt || int64(got) != tc.want {
			t.Errorf("GetAs[int](%s) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.okInt)
		}
	}
}
