package sessions

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// The signature tests forge or damage default-format cookies and check that
// none is accepted, by Middleware.Decode and by the middleware itself.

// secValidCookie returns a cookie of m holding a logged-in-looking session.
func secValidCookie(t *testing.T, m *Middleware) string {
	t.Helper()
	v, err := m.Encode(map[string]any{"role": "user", "cart": []any{"apple", "pear"}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if _, err := m.Decode(context.Background(), v); err != nil {
		t.Fatalf("Decode of a fresh cookie: %v", err)
	}
	return v
}

func TestSecuritySignatureEveryCharacterChange(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secValidCookie(t, m)
	payload, ts, _ := secParts(t, v)
	tried := 0
	for i := 0; i < len(v); i++ {
		for _, c := range []byte(secAlphabet) {
			if c == v[i] {
				continue
			}
			forged := secReplaceAt(v, i, c)
			tried++
			if got, err := m.Decode(context.Background(), forged); err == nil {
				part := "signature"
				switch {
				case i < len(payload):
					part = "payload"
				case i <= len(payload)+len(ts):
					part = "timestamp"
				}
				t.Fatalf("Decode accepted %s changed at %d (%q -> %q): %v", part, i, v[i], c, got)
			} else if !errors.Is(err, ErrInvalidCookie) {
				t.Fatalf("Decode(forged at %d) error %v does not match ErrInvalidCookie", i, err)
			}
		}
	}
	t.Logf("%d single-character forgeries of a %d-byte cookie rejected", tried, len(v))

	// The middleware: a forged cookie gives the handler a new, empty session.
	forged := secReplaceAt(v, len(payload)/2, 'A'^'B'^v[len(payload)/2])
	if seen := secLoad(t, m, "session="+forged); len(seen.Values) != 0 {
		t.Errorf("middleware accepted a forged cookie: %v", seen.Values)
	}
	if seen := secLoad(t, m, "session="+v); seen.Values["role"] != "user" {
		t.Errorf("middleware rejected the genuine cookie: %v", seen.Values)
	}
}

// A base64 character carries 6 bits; the last one of a 32-byte signature
// uses 4 of them. Changing only the 2 unused bits decodes to the same bytes,
// so a verifier comparing decoded bytes would accept it.
func TestSecuritySignatureLastCharSameBits(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secValidCookie(t, m)
	lenient := base64.RawURLEncoding // not Strict: ignores the unused bits
	want, err := lenient.DecodeString(v[strings.LastIndexByte(v, '.')+1:])
	if err != nil {
		t.Fatal(err)
	}
	variants := 0
	for _, c := range []byte(secAlphabet[:64]) {
		forged := secReplaceAt(v, len(v)-1, c)
		if forged == v {
			continue
		}
		got, err := lenient.DecodeString(forged[strings.LastIndexByte(forged, '.')+1:])
		if err != nil || string(got) != string(want) {
			continue
		}
		variants++
		if _, err := m.Decode(context.Background(), forged); !errors.Is(err, ErrBadSignature) {
			t.Errorf("signature ending %q (same bits as %q): err = %v, want ErrBadSignature", c, v[len(v)-1], err)
		}
	}
	if variants != 3 {
		t.Fatalf("found %d same-bits variants of the last character, want 3", variants)
	}

	// The same holds for the timestamp: 4 bytes in 6 characters, the last
	// one using 2 of its bits. The MAC covers the text, and the timestamp
	// parser is strict besides.
	s := secCodecSigner(t, m)
	payload, ts, _ := secParts(t, v)
	tsWant, _ := lenient.DecodeString(ts)
	for _, c := range []byte(secAlphabet[:64]) {
		alt := ts[:len(ts)-1] + string(c)
		if alt == ts {
			continue
		}
		if got, err := lenient.DecodeString(alt); err != nil || string(got) != string(tsWant) {
			continue
		}
		forged := s.signRaw([]byte(payload + "." + alt)) // validly signed
		if _, err := m.Decode(context.Background(), forged); !errors.Is(err, ErrMalformed) {
			t.Errorf("timestamp %q (same bits as %q): err = %v, want ErrMalformed", alt, ts, err)
		}
	}
}

func TestSecuritySignatureTruncation(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secValidCookie(t, m)
	for n := 0; n < len(v); n++ {
		if _, err := m.Decode(context.Background(), v[:n]); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("Decode(first %d of %d bytes): err = %v, want ErrInvalidCookie", n, len(v), err)
		}
		if _, err := m.Decode(context.Background(), v[n+1:]); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("Decode(without first %d bytes): err = %v, want ErrInvalidCookie", n+1, err)
		}
	}
}

// The parts tests sign each crafted value with the real key, so only the
// parser's strictness can reject them.
func TestSecuritySignatureParts(t *testing.T) {
	m := secNew(t, SessionConfig{})
	s := secCodecSigner(t, m)
	v := secValidCookie(t, m)
	payload, ts, sig := secParts(t, v)
	std := base64.StdEncoding.WithPadding(base64.NoPadding)
	// A payload whose standard base64 has '+' and '/': "?>?" encodes to
	// "Pz4/" and ">>>" to "Pj4+".
	alphaJSON := `{"k":"?>?>>>"}`
	if e := std.EncodeToString([]byte(alphaJSON)); !strings.ContainsAny(e, "+/") {
		t.Fatalf("test payload %q encodes to %q, with no '+' or '/'", alphaJSON, e)
	}
	padded := base64.URLEncoding.EncodeToString([]byte(`{"k":"vv"}`))
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("test payload encodes to %q, with no padding", padded)
	}
	cases := []struct {
		name  string
		value string
		want  error
	}{
		{"genuine", v, nil},
		{"no timestamp (payload.sig)", s.signRaw([]byte(payload)), ErrMalformed},
		{"extra part before", s.signRaw([]byte("eyJ9." + payload + "." + ts)), ErrMalformed},
		{"extra part after timestamp", s.signRaw([]byte(payload + "." + ts + ".AAAA")), ErrMalformed},
		{"two timestamps", s.signRaw([]byte(payload + "." + ts + "." + ts)), ErrMalformed},
		{"empty payload", s.signRaw([]byte("." + ts)), ErrMalformed},
		{"empty timestamp", s.signRaw([]byte(payload + ".")), ErrMalformed},
		{"only dots", s.signRaw([]byte("..")), ErrMalformed},
		{"padded payload", s.signRaw([]byte(padded + "." + ts)), ErrMalformed},
		{"padded timestamp", s.signRaw([]byte(payload + "." + ts + "==")), ErrMalformed},
		{"standard alphabet payload", s.signRaw([]byte(std.EncodeToString([]byte(alphaJSON)) + "." + ts)), ErrMalformed},
		{"standard alphabet signature", payload + "." + ts + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig), ErrBadSignature},
		{"padded signature", v + "=", ErrBadSignature},
		{"empty signature", payload + "." + ts + ".", ErrBadSignature},
		{"no signature", payload + "." + ts, ErrBadSignature},
		{"signature only", "." + sig, ErrBadSignature},
		{"signed empty value", s.signRaw(nil), ErrMalformed},
		{"empty", "", ErrMalformed},
		{"dot", ".", ErrBadSignature},
		{"three dots", "...", ErrBadSignature},
		{"compressed marker without zlib", s.signRaw([]byte("." + payload + "." + ts)), ErrMalformed},
	}
	// Sanity: the URL-safe twin of the standard-alphabet payload is accepted,
	// so the rejection above is about the alphabet.
	if _, err := m.Decode(context.Background(), s.signRaw([]byte(base64.RawURLEncoding.EncodeToString([]byte(alphaJSON))+"."+ts))); err != nil {
		t.Fatalf("URL-safe encoding of the alphabet payload rejected: %v", err)
	}
	for _, c := range cases {
		_, err := m.Decode(context.Background(), c.value)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%s: Decode(%q) = %v, want success", c.name, c.value, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%s: Decode(%q) = %v, want %v", c.name, c.value, err, c.want)
		case c.want != nil && !errors.Is(err, ErrInvalidCookie):
			t.Errorf("%s: error %v does not match ErrInvalidCookie", c.name, err)
		}
		if c.want != nil && c.value != "" {
			if seen := secLoad(t, m, "session="+c.value); len(seen.Values) != 0 {
				t.Errorf("%s: middleware accepted it: %v", c.name, seen.Values)
			}
		}
	}
}

// Quoted cookie values: the middleware strips one pair of surrounding double
// quotes, as net/http's Request.Cookie does; what remains must verify.
func TestSecuritySignatureQuotedValues(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secValidCookie(t, m)
	cases := []struct {
		header string
		ok     bool
	}{
		{`session="` + v + `"`, true},
		{`session=` + v, true},
		{`session=""` + v + `""`, false},
		{`session="` + v, false},
		{`session=` + v + `"`, false},
		{`session='` + v + `'`, false},
		{`session="` + v[:len(v)-1] + `"`, false},
		{`session=""`, false},
		{`session="`, false},
	}
	for _, c := range cases {
		seen := secLoad(t, m, c.header)
		if got := seen.Values["role"] == "user"; got != c.ok {
			t.Errorf("Cookie: %s: session loaded = %v, want %v", c.header, got, c.ok)
		}
		// net/http agrees on what the value is.
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", c.header)
		if ck, err := r.Cookie("session"); c.ok && (err != nil || ck.Value != v) {
			t.Errorf("Cookie: %s: net/http reads %v, %v; want the unquoted value", c.header, ck, err)
		}
	}
}

func TestSecuritySignatureControlAndNonASCII(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secValidCookie(t, m)
	payload, ts, _ := secParts(t, v)
	bad := []string{"\x00", "\x01", "\t", "\n", "\r", " ", "\x7f", "\x80", "\xff", "é", "\u2028", "\ufeff", ";", ",", "\\", "\""}
	positions := []int{0, len(payload) / 2, len(payload), len(payload) + 1 + len(ts), len(v)}
	for _, b := range bad {
		for _, p := range positions {
			inserted := v[:p] + b + v[p:]
			if _, err := m.Decode(context.Background(), inserted); !errors.Is(err, ErrInvalidCookie) {
				t.Errorf("Decode(%q inserted at %d) = %v, want ErrInvalidCookie", b, p, err)
			}
			if p < len(v) {
				replaced := v[:p] + b + v[p+1:]
				if _, err := m.Decode(context.Background(), replaced); !errors.Is(err, ErrInvalidCookie) {
					t.Errorf("Decode(%q replacing %d) = %v, want ErrInvalidCookie", b, p, err)
				}
			}
		}
		// A validly signed value whose payload holds the byte.
		s := secCodecSigner(t, m)
		if _, err := m.Decode(context.Background(), s.signRaw([]byte(payload+b+"."+ts))); !errors.Is(err, ErrMalformed) {
			t.Errorf("signed payload with %q: err = %v, want ErrMalformed", b, err)
		}
	}
}

// secOversized returns a validly signed default-format value of m that is
// larger than MaxCookieSize: only the size limit can reject it.
func secOversized(t *testing.T, m *Middleware, size int) string {
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
	v := secSignPayload(t, m, b.String())
	if len(v) <= MaxCookieSize {
		t.Fatalf("oversized value is only %d bytes", len(v))
	}
	return v
}

func TestSecurityOversizedRejectedBeforeDecoding(t *testing.T) {
	m := secNew(t, SessionConfig{})
	small := secOversized(t, m, MaxCookieSize)
	huge := secOversized(t, m, 64*MaxCookieSize)
	for _, v := range []string{small, huge} {
		if _, err := m.Decode(context.Background(), v); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Decode(%d-byte signed value) = %v, want ErrMalformed", len(v), err)
		}
	}

	// Middleware.Decode: a few allocations for the error, bounded whatever
	// the size, and no memory in proportion to the value. (The bound, not
	// equality: the race detector adds an allocation now and then.)
	allocs := func(v string) float64 {
		return secAllocs(func() { m.Decode(context.Background(), v) })
	}
	if a, b := allocs(small), allocs(huge); a > 4 || b > 4 {
		t.Errorf("Decode allocations: %v for %d bytes, %v for %d bytes; want at most 4", a, len(small), b, len(huge))
	}
	if n := secBytesPerRun(func() { m.Decode(context.Background(), huge) }); n > 1024 {
		t.Errorf("Decode of a %d-byte value allocates %d bytes per call, want at most 1024", len(huge), n)
	}

	// The load path of the middleware.
	ctx := context.Background()
	load := func(v string) func() {
		return func() { m.backend.load(ctx, v, secT0) }
	}
	if _, err := m.backend.load(ctx, huge, secT0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("backend.load(oversized) = %v, want ErrMalformed", err)
	}
	if a, b := secAllocs(load(small)), secAllocs(load(huge)); a > 4 || b > 4 {
		t.Errorf("load allocations: %v for %d bytes, %v for %d bytes; want at most 4", a, len(small), b, len(huge))
	}
	if n := secBytesPerRun(load(huge)); n > 1024 {
		t.Errorf("load of a %d-byte value allocates %d bytes per call, want at most 1024", len(huge), n)
	}
	if seen := secLoad(t, m, "session="+huge); len(seen.Values) != 0 {
		t.Errorf("middleware accepted an oversized cookie: %d keys", len(seen.Values))
	}
}

// secAllocs is testing.AllocsPerRun, the least of three measurements: a
// goroutine another test left running can only add to a measurement.
func secAllocs(f func()) float64 {
	least := testing.AllocsPerRun(50, f)
	for i := 0; i < 2; i++ {
		least = min(least, testing.AllocsPerRun(50, f))
	}
	return least
}

// secBytesPerRun returns the average heap bytes f allocates (the least of
// three measurements).
func secBytesPerRun(f func()) uint64 {
	const runs = 20
	f()
	var least uint64
	for try := 0; try < 3; try++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			f()
		}
		runtime.ReadMemStats(&after)
		if n := (after.TotalAlloc - before.TotalAlloc) / runs; try == 0 || n < least {
			least = n
		}
	}
	return least
}

// Every built-in format rejects every single-character change of a valid
// cookie, including a last base64 character that decodes to the same bits
// (the signature formats compare canonical text; the others decode
// strictly).
func TestSecuritySignatureEveryFormatEveryCharacter(t *testing.T) {
	alphabet := secAlphabet + "+/=|~ "
	for _, f := range []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT, FormatEncrypted} {
		t.Run(f.String(), func(t *testing.T) {
			m := secNew(t, SessionConfig{Format: f})
			v := secIssue(t, m, "alice", map[string]any{"role": "user"})
			if _, err := m.Decode(context.Background(), v); err != nil {
				t.Fatalf("Decode(genuine) = %v", err)
			}
			for i := 0; i < len(v); i++ {
				for _, c := range []byte(alphabet) {
					if c == v[i] {
						continue
					}
					forged := secReplaceAt(v, i, c)
					if _, err := m.Decode(context.Background(), forged); err == nil {
						t.Fatalf("accepted %q changed at %d of %d (%q -> %q)", v, i, len(v), v[i], c)
					}
				}
			}
		})
	}
}
