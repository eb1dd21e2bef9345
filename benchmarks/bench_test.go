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

// BenchmarkSessions runs the floors and every workload through every
// library, as sub-benchmarks of one benchmark so that `-count N` interleaves
// them (a noisy machine then slows all of them alike). Names are
// Sessions/floor/{http,codec} and Sessions/<workload>/<impl>; run.sh turns
// them into a table.
func BenchmarkSessions(b *testing.B) {
	all := impls(b)
	// floor/http: the request and recorder every workload uses, with a
	// handler that does nothing; the request carries a session cookie. It
	// runs first and last in each round (the second as floor/http#01,
	// which run.sh counts as the same benchmark), so that its median does
	// not depend on where in a round it ran.
	httpFloor := func(b *testing.B) {
		cookie := seedCookie(b, all[0])
		measure(b, func() { serve(nothing, cookie) })
	}
	b.Run("floor/http", httpFloor)
	defer b.Run("floor/http", httpFloor)
	// floor/codec: the bare work of one cookie round trip.
	b.Run("floor/codec", func(b *testing.B) {
		key := []byte(secret)
		measure(b, func() {
			if _, err := codecRoundTrip(key); err != nil {
				b.Fatal(err)
			}
		})
	})
	for _, workload := range workloads {
		for _, im := range all {
			b.Run(workload+"/"+im.name, func(b *testing.B) {
				var got string
				h := im.handler(workload, &got)
				cookie := cookieFor(b, im, workload)
				measure(b, func() { serve(h, cookie) })
			})
		}
	}
}

// BenchmarkLean runs the same workloads with a lighter harness, so that the
// libraries' own cost is a larger part of each row: the request is a
// shallow copy of one parsed once (gorilla/sessions replaces the copy's
// context), and one ResponseWriter is reused, its header map cleared.
// Names are Lean/floor/http and Lean/<workload>/<impl>.
func BenchmarkLean(b *testing.B) {
	all := impls(b)
	httpFloor := func(b *testing.B) {
		measure(b, leanServe(nothing, seedCookie(b, all[0])))
	}
	b.Run("floor/http", httpFloor)
	defer b.Run("floor/http", httpFloor)
	for _, workload := range workloads {
		for _, im := range all {
			b.Run(workload+"/"+im.name, func(b *testing.B) {
				var got string
				measure(b, leanServe(im.handler(workload, &got), cookieFor(b, im, workload)))
			})
		}
	}
}

// leanServe returns one operation of the lean harness.
func leanServe(h http.Handler, cookie string) func() {
	proto := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		proto.Header.Set("Cookie", cookie)
	}
	w := &leanWriter{h: http.Header{}}
	return func() {
		r := *proto
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, &r)
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

// TestLeanHarness: the lean harness serves the workloads as the httptest
// one does.
func TestLeanHarness(t *testing.T) {
	for _, im := range impls(t) {
		cookie := seedCookie(t, im)
		var got string
		leanServe(im.handler(wRead, &got), cookie)()
		if got != valStr {
			t.Errorf("%s: lean read: got %q, want %q", im.name, got, valStr)
		}
		var w leanWriter
		op := func(h http.Handler) {
			proto := httptest.NewRequest(http.MethodGet, "/", nil)
			proto.Header.Set("Cookie", cookie)
			w = leanWriter{h: http.Header{}}
			r := *proto
			h.ServeHTTP(&w, &r)
		}
		op(im.handler(wWrite, new(string)))
		if w.code != http.StatusNoContent || len(w.h.Values("Set-Cookie")) != 1 {
			t.Errorf("%s: lean write: status %d, Set-Cookie %q; want 204 and one cookie", im.name, w.code, w.h.Values("Set-Cookie"))
		}
	}
}

// measure runs f in the benchmark loop and reports, besides ns/op (wall
// clock), B/op and allocs/op, the process's CPU time per operation
// (cpu-ns/op): on a machine busy with other work, wall-clock time also
// counts the waits for a CPU, CPU time does not.
func measure(b *testing.B, f func()) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		f()
	}
	if end := cpuTime(); end > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// codecRoundTrip is the bare work of one cookie round trip with the
// standard library: encode the three-key payload as JSON, base64 it and
// HMAC-SHA256 it; then verify the MAC, decode the base64 and parse the JSON.
func codecRoundTrip(key []byte) (map[string]any, error) {
	b64 := base64.RawURLEncoding
	raw, err := json.Marshal(map[string]any{keyNum: valNum, keyStr: valStr, keyCounter: valCounter})
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

// TestWorkloads checks that every workload does what it says, with the same
// handlers and requests the benchmarks time.
func TestWorkloads(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			cookie := seedCookie(t, im)

			var got string
			w := serve(im.handler(wRead, &got), cookie)
			if got != valStr {
				t.Errorf("read: got %q, want %q", got, valStr)
			}
			if w.Code != http.StatusNoContent {
				t.Errorf("read: status %d, want 204", w.Code)
			}
			if v := setCookieValue(t, w); v != "" && isCtxsession(im) {
				t.Errorf("read: got Set-Cookie %q, want none (nothing changed)", v)
			}

			w = serve(im.handler(wWrite, new(string)), cookie)
			written := setCookieValue(t, w)
			if written == "" {
				t.Fatalf("write: got no Set-Cookie")
			}
			// The counter went up by one: read back what the write sent.
			var counter string
			serve(im.handler(wCounter, &counter), written)
			if counter != "8" {
				t.Errorf("write: counter after one write is %q, want 8", counter)
			}

			w = serve(im.handler(wUntouched, new(string)), cookie)
			if v := setCookieValue(t, w); v != "" {
				t.Errorf("untouched: got Set-Cookie %q, want none", v)
			}
			if w.Code != http.StatusNoContent {
				t.Errorf("untouched: status %d, want 204", w.Code)
			}
		})
	}
}

func TestFloorCodec(t *testing.T) {
	out, err := codecRoundTrip([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if out[keyStr] != valStr || out[keyNum] != float64(valNum) || out[keyCounter] != float64(valCounter) {
		t.Errorf("got %v, want the three keys back", out)
	}
}
