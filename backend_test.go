package sessions

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.Greater(t, len(v), size, "oversized value")
	return v
}

func TestSecurityOversizedRejectedBeforeDecoding(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	small := oversized(t, e, MaxCookieReadSize)
	huge := oversized(t, e, 64*MaxCookieSize)
	for _, v := range []string{small, huge} {
		_, err := e.M.Decode(context.Background(), v)
		require.ErrorIs(t, err, ErrMalformed, "Decode(%d-byte signed value)", len(v))
	}

	// Middleware.Decode: a few allocations for the error, bounded whatever
	// the size, and no memory in proportion to the value. (The bound, not
	// equality: the race detector adds an allocation now and then.)
	allocs := func(v string) float64 {
		return Allocs(func() { e.M.Decode(context.Background(), v) })
	}
	assert.LessOrEqual(t, allocs(small), 4.0, "Decode allocations for %d bytes", len(small))
	assert.LessOrEqual(t, allocs(huge), 4.0, "Decode allocations for %d bytes", len(huge))
	assert.LessOrEqual(t, BytesPerRun(func() { e.M.Decode(context.Background(), huge) }), uint64(1024),
		"bytes Decode allocates per call for a %d-byte value", len(huge))

	// The load path of the middleware.
	ctx := context.Background()
	load := func(v string) func() {
		return func() { e.M.backend.load(ctx, v, TestStart) }
	}
	_, err := e.M.backend.load(ctx, huge, TestStart)
	require.ErrorIs(t, err, ErrMalformed, "backend.load(oversized)")
	assert.LessOrEqual(t, Allocs(load(small)), 4.0, "load allocations for %d bytes", len(small))
	assert.LessOrEqual(t, Allocs(load(huge)), 4.0, "load allocations for %d bytes", len(huge))
	assert.LessOrEqual(t, BytesPerRun(load(huge)), uint64(1024), "bytes load allocates per call for a %d-byte value", len(huge))
	assert.Empty(t, e.Load("session="+huge).Values, "middleware accepted an oversized cookie")
}

// TestPayloadOverInflateCap: a session that would compress into a cookie
// but inflate past the reader's cap is refused, with its size and keys.
func TestPayloadOverInflateCap(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.Visit("", func(_ *http.Request, s *Session) { s.Set("big", strings.Repeat("a", 70000)) })
	assert.Equal(t, http.StatusInternalServerError, v.Rec.Code)
	assert.Empty(t, v.Cookie)
	errs := e.Errors()
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrCookieTooLarge)
	assert.ErrorContains(t, errs[0], `"big" (`)
}

// TestCookieTooLargeSays: the size error gives the cookie's size and its
// largest keys.
func TestCookieTooLargeSays(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	e.Visit("", func(_ *http.Request, s *Session) {
		s.Set("small", 1)
		s.Set("notes", Incompressible(5000))
	})
	errs := e.Errors()
	require.Len(t, errs, 1)
	var tl *CookieTooLargeError
	require.ErrorAs(t, errs[0], &tl)
	assert.Greater(t, tl.Size, MaxCookieSize)
	assert.Equal(t, MaxCookieSize, tl.Limit)
	require.NotEmpty(t, tl.Largest)
	assert.True(t, strings.HasPrefix(tl.Largest[0], `"notes" (`), "largest first: %v", tl.Largest)
}

// Browsers keep a cookie whose name and value have 4096 bytes; the
// middleware writes up to that, and reads up to MaxCookieReadSize, which
// clients other than browsers send.
func TestCookieSizeCountedAsBrowsersDo(t *testing.T) {
	// A JWT is not compressed: find a value whose cookie has exactly 4096
	// bytes, name included.
	m := NewEnv(t, SessionConfig{Format: FormatJWT}).M
	var key string
	var n int
	var v string
search:
	for _, key = range []string{"p", "pp", "ppp"} {
		for n = 2900; n < 3100; n++ {
			var err error
			if v, err = m.Encode(map[string]any{key: strings.Repeat("x", n)}); err != nil {
				break
			}
			if len("session")+len(v) == MaxCookieSize {
				break search
			}
		}
	}
	require.Equal(t, MaxCookieSize, len("session")+len(v), "no value gives a 4096-byte cookie")
	_, err := m.Decode(t.Context(), v)
	require.NoError(t, err, "a 4096-byte cookie is read")
	_, err = m.Encode(map[string]any{key: strings.Repeat("x", n+1)})
	require.ErrorIs(t, err, ErrCookieTooLarge, "a larger one is not written")
	e := NewEnv(t, SessionConfig{Format: FormatStarlette})
	m = e.M

	// What a peer writes for clients that are not browsers is read up to
	// MaxCookieReadSize.
	big := pyMint(t, FormatStarlette, TestKey, `{"p":"`+strings.Repeat("y", 4500)+`"}`, e.Clock.Now())
	require.Greater(t, len(big), MaxCookieSize)
	_, err = m.Decode(t.Context(), big)
	require.NoError(t, err, "a %d-byte Starlette cookie is read", len(big))
	huge := pyMint(t, FormatStarlette, TestKey, `{"p":"`+strings.Repeat("y", 6200)+`"}`, e.Clock.Now())
	require.Greater(t, len("session")+len(huge), MaxCookieReadSize)
	_, err = m.Decode(t.Context(), huge)
	require.ErrorIs(t, err, ErrMalformed, "over MaxCookieReadSize")
}

// checkPayload parses an owned payload (one the built-in codecs decoded into
// a new buffer) in place, and copies any other first: a payload from a
// user's Codec or a Store may be a buffer its owner reuses.
func TestCheckPayloadCopiesUnlessOwned(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	payload := []byte(`{"k":"value"}`)
	var l loaded
	require.NoError(t, e.M.checkPayload(&l, payload, false, TestStart))
	copy(payload[6:], "XXXXX")
	assert.Equal(t, "value", l.values["k"], "a payload that is not owned is copied")

	d, err := CodecOf(e.M).Decode(e.Mint(map[string]any{"k": "value"}), TestStart)
	require.NoError(t, err)
	assert.True(t, d.owned, "the default codec decodes into a buffer of its own")
	// A payload without metadata: no pooled map, so the counts are exact
	// under the race detector too.
	plain := []byte(`{"k":"value"}`)
	var again loaded
	copied := Allocs(func() { e.M.checkPayload(&again, plain, false, TestStart) })
	inPlace := Allocs(func() { e.M.checkPayload(&again, plain, true, TestStart) })
	assert.Equal(t, copied-1, inPlace, "an owned payload is not copied")
	assert.Equal(t, "value", again.values["k"])
}
