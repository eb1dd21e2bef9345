package sessions

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests pin the properties the fast paths rely on; the timings live
// in the benchmarks module.

// TestZlibWontShrink: whenever the estimate says compressing cannot gain,
// compress/zlib indeed gives at least len-1 bytes; and the estimate is
// useful (it skips typical session payloads).
func TestZlibWontShrink(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	zlibLen := func(p []byte) int {
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(p)
		zw.Close()
		return buf.Len()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{
		"a", "ab", "abc", "0123456789", "aaaaaaaab",
		`{}":,abcdefghijklmnopqrstuvwxyz0123456789`,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	alphabets = append(alphabets, string(all))
	var payloads [][]byte
	for _, alpha := range alphabets {
		for n := 11; n < 140; n++ {
			for range 6 {
				p := make([]byte, n)
				for i := range p {
					// Skewed draws give every shape of frequency table.
					j := rng.IntN(len(alpha))
					if rng.IntN(3) == 0 {
						j = rng.IntN(1 + len(alpha)/4)
					}
					p[i] = alpha[j]
				}
				payloads = append(payloads, p)
			}
		}
	}
	for i := range 300 {
		tok := make([]byte, 16+rng.IntN(40))
		for j := range tok {
			tok[j] = alphabets[6][rng.IntN(64)]
		}
		payloads = append(payloads,
			fmt.Appendf(nil, `{"c":%d,"s":%q,"_ctxsession":{"c":%d}}`, i, tok, 1700000000+rng.IntN(1e8)),
			fmt.Appendf(nil, `{"cart":[%d,%d],"user":"u%d","_ctxsession":{"c":%d,"uid":"%d"}}`, i, rng.IntN(1e4), i, 1700000000+rng.IntN(1e8), rng.IntN(1e9)))
	}
	skipped := 0
	for _, p := range payloads {
		if !zlibWontShrink(p) {
			continue
		}
		skipped++
		if got := zlibLen(p); got < len(p)-1 {
			t.Fatalf("zlibWontShrink(%q) = true, but zlib gives %d bytes for %d", p, got, len(p))
		}
	}
	if skipped < len(payloads)/4 {
		t.Errorf("zlibWontShrink skipped %d of %d payloads; the estimate is too weak to pay", skipped, len(payloads))
	}
	typical := []byte(`{"c":7,"n":42,"s":"q7MbX2vKfR9tLwZp4cYhN8sJdE3gUa6B","_ctxsession":{"c":1763778000}}`)
	if !zlibWontShrink(typical) {
		t.Errorf("zlibWontShrink(%s) = false, want true (zlib gives %d bytes for %d)", typical, zlibLen(typical), len(typical))
	}
	for _, p := range []string{`{"a":"` + strings.Repeat("a", 40) + `"}`, strings.Repeat("x", 200), `{}`} {
		if zlibWontShrink([]byte(p)) {
			t.Errorf("zlibWontShrink(%s) = true, want false", p)
		}
	}
}

// TestHuffmanLengths: the code lengths are those of an optimal prefix code:
// their cost equals Huffman's (the sum of the merged weights) and they
// satisfy Kraft's inequality.
func TestHuffmanLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		freq := make([]int32, 1+rng.IntN(200))
		for range 1 + rng.IntN(60) {
			freq[rng.IntN(len(freq))] += int32(1 + rng.IntN(1+rng.IntN(20)))
		}
		var weights []int64
		for i, f := range freq {
			f = min(f, 258) // the most a code-length table can hold
			freq[i] = f
			if f > 0 {
				weights = append(weights, int64(f))
			}
		}
		lens := make([]uint8, len(freq))
		if !huffmanLengths(freq, lens, 30) {
			t.Fatalf("huffmanLengths(%v) = false", freq)
		}
		var cost int64
		var kraft float64
		for i, f := range freq {
			switch {
			case f > 0:
				cost += int64(f) * int64(lens[i])
				kraft += 1 / float64(uint64(1)<<lens[i])
			case lens[i] != 0:
				t.Fatalf("huffmanLengths(%v): unused symbol %d has length %d", freq, i, lens[i])
			}
		}
		want := int64(0) // Huffman's cost: the sum of the merged weights
		if len(weights) == 1 {
			want = weights[0] // one symbol still gets a 1-bit code
		}
		for len(weights) > 1 {
			slices.Sort(weights)
			m := weights[0] + weights[1]
			want += m
			weights = append(weights[2:], m)
		}
		if cost != want || kraft > 1+1e-9 {
			t.Fatalf("huffmanLengths(%v) = %v: cost %d, want %d; Kraft sum %v", freq, lens, cost, want, kraft)
		}
	}
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
