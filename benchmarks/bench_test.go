package benchmarks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkSessions runs the floors and every workload on every session
// through every implementation, as sub-benchmarks of one benchmark so that
// `-count N` interleaves them (a noisy machine then slows all of them
// alike). Names are Sessions/floor=http, Sessions/session=S/floor=codec and
// Sessions/session=S/op=O/impl=I; benchstat reads them as keys
// (`benchstat -col /impl`), cmd/benchtable turns them into tables.
func BenchmarkSessions(b *testing.B) {
	all := openAll(b)
	// floor=http: the request and recorder every workload uses, with a
	// handler that does nothing; the request carries a session cookie. It
	// runs first and last in each round (the second as floor=http#01,
	// which benchtable counts as the same benchmark), so that its median
	// does not depend on where in a round it ran.
	httpFloor := func(b *testing.B) {
		cookie := seedCookie(b, all[0], Small)
		measure(b, func() bool { return serve(nothing, cookie).Code == http.StatusNoContent })
	}
	b.Run("floor=http", httpFloor)
	defer b.Run("floor=http", httpFloor)
	for _, sess := range Sessions {
		// floor=codec: the bare work of one cookie round trip of the
		// session, with the standard library.
		b.Run("session="+sess.Name+"/floor=codec", func(b *testing.B) {
			key := []byte(Secret)
			measure(b, func() bool {
				_, err := codecRoundTrip(key, sess)
				return err == nil
			})
		})
		for _, op := range Ops {
			for _, im := range all {
				if im.Refuses(sess) != "" {
					continue
				}
				b.Run("session="+sess.Name+"/op="+string(op)+"/impl="+im.Name, func(b *testing.B) {
					h := im.Handler(op, sess, nil)
					cookie := cookieFor(b, im, op, sess)
					measure(b, func() bool { return serve(h, cookie).Code == http.StatusNoContent })
				})
			}
		}
	}
}

// BenchmarkLean runs the same workloads with a lighter harness, so that the
// libraries' own cost is a larger part of each row: the request is a
// shallow copy of one parsed once (gorilla/sessions replaces the copy's
// context), and one ResponseWriter is reused, its header map cleared.
// Names are Lean/floor=http and Lean/session=S/op=O/impl=I.
func BenchmarkLean(b *testing.B) {
	all := openAll(b)
	httpFloor := func(b *testing.B) {
		measure(b, leanServe(nothing, seedCookie(b, all[0], Small)))
	}
	b.Run("floor=http", httpFloor)
	defer b.Run("floor=http", httpFloor)
	for _, sess := range Sessions {
		for _, op := range Ops {
			for _, im := range all {
				if im.Refuses(sess) != "" {
					continue
				}
				b.Run("session="+sess.Name+"/op="+string(op)+"/impl="+im.Name, func(b *testing.B) {
					measure(b, leanServe(im.Handler(op, sess, nil), cookieFor(b, im, op, sess)))
				})
			}
		}
	}
}

// openAll opens every implementation for tb.
func openAll(tb testing.TB) []Impl {
	env := NewEnv()
	tb.Cleanup(env.Close)
	all, err := Open(env)
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// leanServe returns one operation of the lean harness; it reports whether
// the handler answered 204.
func leanServe(h http.Handler, cookie string) func() bool {
	proto := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		proto.Header.Set("Cookie", cookie)
	}
	w := &leanWriter{h: http.Header{}}
	return func() bool {
		r := *proto
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, &r)
		return w.code == http.StatusNoContent
	}
}

// leanWriter is a ResponseWriter that keeps the status and headers only.
type leanWriter struct {
	h    http.Header
	code int
}

func (w *leanWriter) Header() http.Header         { return w.h }
func (w *leanWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *leanWriter) WriteHeader(code int)        { w.code = code }

// measure runs op in the benchmark loop, failing the benchmark when op
// reports a failure, and reports, besides ns/op (wall clock), B/op and
// allocs/op, the process's CPU time per operation (cpu-ns/op): on a machine
// busy with other work, wall-clock time also counts the waits for a CPU,
// CPU time does not.
func measure(b *testing.B, op func() bool) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if !op() {
			b.Fatal("the operation failed (status other than 204)")
		}
	}
	if end := cpuTime(); end > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// codecRoundTrip is the bare work of one cookie round trip of sess with the
// standard library: encode its values as JSON, base64 it and HMAC-SHA256
// it; then verify the MAC, decode the base64 and parse the JSON.
func codecRoundTrip(key []byte, sess *Session) (map[string]any, error) {
	b64 := base64.RawURLEncoding
	in := make(map[string]any, len(sess.Values))
	for _, kv := range sess.Values {
		in[kv.Key] = kv.Value
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	body := b64.EncodeToString(raw)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	value := body + "." + b64.EncodeToString(mac.Sum(nil))

	i := strings.LastIndexByte(value, '.')
	sig, err := b64.DecodeString(value[i+1:])
	if err != nil {
		return nil, err
	}
	mac = hmac.New(sha256.New, key)
	mac.Write([]byte(value[:i]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("bad signature")
	}
	raw, err = b64.DecodeString(value[:i])
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// serve runs one request through h the way every benchmark does: a request
// parsed by httptest.NewRequest (as a server parses one), the Cookie header
// when cookie is not empty, and a fresh ResponseRecorder.
func serve(h http.Handler, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// seedCookie runs the new workload of sess once and returns the Cookie
// header a browser would send back.
func seedCookie(tb testing.TB, im Impl, sess *Session) string {
	tb.Helper()
	w := serve(im.Handler(OpNew, sess, nil), "")
	if w.Code != http.StatusNoContent {
		tb.Fatalf("%s: new %s: status %d, want 204: %s", im.Name, sess.Name, w.Code, w.Body)
	}
	v := setCookieValue(tb, w)
	if v == "" {
		tb.Fatalf("%s: new %s: got no Set-Cookie", im.Name, sess.Name)
	}
	return v
}

// cookieFor returns the Cookie header the requests of op carry.
func cookieFor(tb testing.TB, im Impl, op Op, sess *Session) string {
	if op == OpNew {
		return ""
	}
	return seedCookie(tb, im, sess)
}

// setCookieValue returns the one Set-Cookie line of w as a Cookie header
// ("name=value"), or "".
func setCookieValue(tb testing.TB, w *httptest.ResponseRecorder) string {
	tb.Helper()
	lines := w.Header().Values("Set-Cookie")
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 1 {
		tb.Fatalf("got %d Set-Cookie lines, want at most 1: %q", len(lines), lines)
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		tb.Fatalf("bad Set-Cookie %q: %v", lines[0], err)
	}
	return c.Name + "=" + c.Value
}
