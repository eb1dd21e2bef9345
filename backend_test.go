package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// oversized returns a validly signed default-format value of e that is
// larger than MaxCookieSize: only the size limit can reject it.
func oversized(t *testing.T, e *Env, size int) string {
	t.Helper()
	// Incompressible JSON: hex of a simple PRNG.
	var b strings.Builder
	b.WriteString(`{"blob":"`)
	x := uint32(2463534242)
	for b.Len() < 2*size { // hex compresses to about half
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("0123456789abcdef"[x&15])
	}
	b.WriteString(`"}`)
	v := e.signPayload(b.String())
	if len(v) <= MaxCookieSize {
		t.Fatalf("oversized value is only %d bytes", len(v))
	}
	return v
}

func TestSecurityOversizedRejectedBeforeDecoding(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	small := oversized(t, e, MaxCookieSize)
	huge := oversized(t, e, 64*MaxCookieSize)
	for _, v := range []string{small, huge} {
		if _, err := e.M.Decode(context.Background(), v); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Decode(%d-byte signed value) = %v, want ErrMalformed", len(v), err)
		}
	}

	// Middleware.Decode: a few allocations for the error, bounded whatever
	// the size, and no memory in proportion to the value. (The bound, not
	// equality: the race detector adds an allocation now and then.)
	allocs := func(v string) float64 {
		return Allocs(func() { e.M.Decode(context.Background(), v) })
	}
	if a, b := allocs(small), allocs(huge); a > 4 || b > 4 {
		t.Errorf("Decode allocations: %v for %d bytes, %v for %d bytes; want at most 4", a, len(small), b, len(huge))
	}
	if n := BytesPerRun(func() { e.M.Decode(context.Background(), huge) }); n > 1024 {
		t.Errorf("Decode of a %d-byte value allocates %d bytes per call, want at most 1024", len(huge), n)
	}

	// The load path of the middleware.
	ctx := context.Background()
	load := func(v string) func() {
		return func() { e.M.backend.load(ctx, v, TestStart) }
	}
	if _, err := e.M.backend.load(ctx, huge, TestStart); !errors.Is(err, ErrMalformed) {
		t.Fatalf("backend.load(oversized) = %v, want ErrMalformed", err)
	}
	if a, b := Allocs(load(small)), Allocs(load(huge)); a > 4 || b > 4 {
		t.Errorf("load allocations: %v for %d bytes, %v for %d bytes; want at most 4", a, len(small), b, len(huge))
	}
	if n := BytesPerRun(load(huge)); n > 1024 {
		t.Errorf("load of a %d-byte value allocates %d bytes per call, want at most 1024", len(huge), n)
	}
	if seen := e.Load("session=" + huge); len(seen.Values) != 0 {
		t.Errorf("middleware accepted an oversized cookie: %d keys", len(seen.Values))
	}
}
