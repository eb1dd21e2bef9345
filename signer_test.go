package sessions

import (
	"context"
	"encoding/base64"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignerVectors(t *testing.T) {
	tests := []struct {
		kd     keyDerivation
		digest func() hash.Hash
		want   string
	}{
		{deriveHMAC, digestSHA1, "value.jDIpiMGO981Z7c892VUQGgYBdRk"},
		{deriveHMAC, digestSHA256, "value.OWS-3_rlBx8K5Ep0RMTaiS8KpXyhWU5gw-6K7MBm00I"},
		{deriveDjangoConcat, digestSHA1, "value.7zFon3W34gYurPXG0RDGT87FAuY"},
		{deriveDjangoConcat, digestSHA256, "value.TIm8EcEnKMW5ZV9x3kqokfUNQFY8DOFZKvSt9aX3Gm8"},
		{deriveConcat, digestSHA1, "value._HAvoW7R7nBIp9Gg_VBW5BPjubY"},
		{deriveConcat, digestSHA256, "value.spv_s5iVgjKuCt4ONEW0J4OX496uBO1CVQ8wNA7VGWU"},
		{deriveNone, digestSHA1, "value.1J5l0KaW_xbyuIewnsRJuq11MRQ"},
		{deriveNone, digestSHA256, "value.gEGakJI1fRgA7vlJTdMyYEyVJn_iY5S1UpQaby0oLC4"},
	}
	for _, tt := range tests {
		s := newSigner([][]byte{[]byte(vectorKey)}, "vector-salt", tt.digest, tt.kd)
		assert.Equal(t, tt.want, s.signRaw([]byte("value")), "kd %d: signRaw", tt.kd)
		v, stale, err := s.unsignRaw(tt.want)
		require.NoError(t, err, "kd %d: unsignRaw", tt.kd)
		assert.Equal(t, "value", v, "kd %d: unsignRaw", tt.kd)
		assert.False(t, stale, "kd %d: unsignRaw: stale", tt.kd)
	}

	ts := []struct {
		kd     keyDerivation
		digest func() hash.Hash
		value  string
		want   string
	}{
		{deriveDjangoConcat, digestSHA1, "value", "value.ZVPxAA.vcxg5eYuO5CSOhNu4pPoTVrvQi4"},
		{deriveNone, digestSHA256, "", ".ZVPxAA.ceMt5ZoCMwvwoeWmBsh8x5CSdZ1IzZN2Idf9IAjG4g8"},
	}
	for _, tt := range ts {
		s := newSigner([][]byte{[]byte(vectorKey)}, "vector-salt", tt.digest, tt.kd)
		assert.Equal(t, tt.want, s.sign([]byte(tt.value), vectorTime), "sign")
		v, issued, _, err := s.unsign(tt.want)
		require.NoError(t, err, "unsign")
		assert.Equal(t, tt.value, v, "unsign")
		assert.True(t, issued.Equal(vectorTime), "unsign: issued %v, want %v", issued, vectorTime)
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"ZVPxAA", vectorUnix, true},
		{"AA", 0, true},
		{"AQ", 1, true},
		{"", 0, false},
		{"A", 0, false},
		{"AAA", 0, false}, // two bytes with a leading zero
		{"ZVPxAB", 0, false},
		{"ZVPxAA==", 0, false},
		{"ZVPx+A", 0, false},
		{"__________8", 0, false}, // above 2^62
	}
	for _, tt := range tests {
		got, err := parseTimestamp(tt.in)
		if tt.ok {
			assert.NoError(t, err, "parseTimestamp(%q)", tt.in)
		} else {
			assert.Error(t, err, "parseTimestamp(%q)", tt.in)
		}
		assert.Equal(t, tt.want, got, "parseTimestamp(%q)", tt.in)
	}
	assert.Equal(t, "ZVPxAA", b64.EncodeToString(intToBytes(vectorUnix)), "intToBytes(%d)", vectorUnix)
	assert.Empty(t, intToBytes(0), "intToBytes(0), as itsdangerous's int_to_bytes")
}

// The signature tests forge or damage default-format cookies and check that
// none is accepted, by Middleware.Decode and by the middleware itself.

func TestSecuritySignatureEveryCharacterChange(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.ValidCookie()
	payload, ts, _ := cookieParts(t, v)
	tried := 0
	for i := 0; i < len(v); i++ {
		for _, c := range []byte(CookieAlphabet) {
			if c == v[i] {
				continue
			}
			forged := ReplaceAt(v, i, c)
			tried++
			_, err := e.M.Decode(context.Background(), forged)
			part := "signature"
			switch {
			case i < len(payload):
				part = "payload"
			case i <= len(payload)+len(ts):
				part = "timestamp"
			}
			require.ErrorIs(t, err, ErrInvalidCookie, "Decode of the %s changed at %d (%q -> %q)", part, i, v[i], c)
		}
	}
	t.Logf("%d single-character forgeries of a %d-byte cookie rejected", tried, len(v))

	// The middleware: a forged cookie gives the handler a new, empty session.
	forged := ReplaceAt(v, len(payload)/2, 'A'^'B'^v[len(payload)/2])
	assert.Empty(t, e.Load("session="+forged).Values, "the middleware accepted a forged cookie")
	assert.Equal(t, "user", e.Load("session=" + v).Values["role"], "the middleware rejected the genuine cookie")
}

// A base64 character carries 6 bits; the last one of a 32-byte signature
// uses 4 of them. Changing only the 2 unused bits decodes to the same bytes,
// so a verifier comparing decoded bytes would accept it.
func TestSecuritySignatureLastCharSameBits(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.ValidCookie()
	lenient := base64.RawURLEncoding // not Strict: ignores the unused bits
	want, err := lenient.DecodeString(v[strings.LastIndexByte(v, '.')+1:])
	require.NoError(t, err)
	variants := 0
	for _, c := range []byte(CookieAlphabet[:64]) {
		forged := ReplaceAt(v, len(v)-1, c)
		if forged == v {
			continue
		}
		got, err := lenient.DecodeString(forged[strings.LastIndexByte(forged, '.')+1:])
		if err != nil || string(got) != string(want) {
			continue
		}
		variants++
		_, err = e.M.Decode(context.Background(), forged)
		assert.ErrorIs(t, err, ErrBadSignature, "signature ending %q (same bits as %q)", c, v[len(v)-1])
	}
	require.Equal(t, 3, variants, "same-bits variants of the last character")

	// The same holds for the timestamp: 4 bytes in 6 characters, the last
	// one using 2 of its bits. The MAC covers the text, and the timestamp
	// parser is strict besides.
	s := signerOf(t, e.M)
	payload, ts, _ := cookieParts(t, v)
	tsWant, _ := lenient.DecodeString(ts)
	for _, c := range []byte(CookieAlphabet[:64]) {
		alt := ts[:len(ts)-1] + string(c)
		if alt == ts {
			continue
		}
		if got, err := lenient.DecodeString(alt); err != nil || string(got) != string(tsWant) {
			continue
		}
		forged := s.signRaw([]byte(payload + "." + alt)) // validly signed
		_, err := e.M.Decode(context.Background(), forged)
		assert.ErrorIs(t, err, ErrMalformed, "timestamp %q (same bits as %q)", alt, ts)
	}
}

func TestSecuritySignatureTruncation(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.ValidCookie()
	for n := 0; n < len(v); n++ {
		_, err := e.M.Decode(context.Background(), v[:n])
		require.ErrorIs(t, err, ErrInvalidCookie, "Decode(first %d of %d bytes)", n, len(v))
		_, err = e.M.Decode(context.Background(), v[n+1:])
		require.ErrorIs(t, err, ErrInvalidCookie, "Decode(without first %d bytes)", n+1)
	}
}

// The parts tests sign each crafted value with the real key, so only the
// parser's strictness can reject them.
func TestSecuritySignatureParts(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	s := signerOf(t, e.M)
	v := e.ValidCookie()
	payload, ts, sig := cookieParts(t, v)
	std := base64.StdEncoding.WithPadding(base64.NoPadding)
	// A payload whose standard base64 has '+' and '/': "?>?" encodes to
	// "Pz4/" and ">>>" to "Pj4+".
	alphaJSON := `{"k":"?>?>>>"}`
	enc := std.EncodeToString([]byte(alphaJSON))
	require.True(t, strings.ContainsAny(enc, "+/"), "test payload %q encodes to %q, with no '+' or '/'", alphaJSON, enc)
	padded := base64.URLEncoding.EncodeToString([]byte(`{"k":"vv"}`))
	require.True(t, strings.HasSuffix(padded, "="), "test payload encodes to %q, with no padding", padded)
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
	_, err := e.M.Decode(context.Background(), s.signRaw([]byte(base64.RawURLEncoding.EncodeToString([]byte(alphaJSON))+"."+ts)))
	require.NoError(t, err, "the URL-safe encoding of the alphabet payload")
	for _, c := range cases {
		_, err := e.M.Decode(context.Background(), c.value)
		if c.want == nil {
			assert.NoError(t, err, "%s: Decode(%q)", c.name, c.value)
			continue
		}
		assert.ErrorIs(t, err, c.want, "%s: Decode(%q)", c.name, c.value)
		assert.ErrorIs(t, err, ErrInvalidCookie, "%s: Decode(%q)", c.name, c.value)
		if c.value != "" {
			assert.Empty(t, e.Load("session="+c.value).Values, "%s: the middleware accepted it", c.name)
		}
	}
}

func TestSecuritySignatureControlAndNonASCII(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.ValidCookie()
	payload, ts, _ := cookieParts(t, v)
	bad := []string{"\x00", "\x01", "\t", "\n", "\r", " ", "\x7f", "\x80", "\xff", "é", "\u2028", "\ufeff", ";", ",", "\\", "\""}
	positions := []int{0, len(payload) / 2, len(payload), len(payload) + 1 + len(ts), len(v)}
	for _, b := range bad {
		for _, p := range positions {
			inserted := v[:p] + b + v[p:]
			_, err := e.M.Decode(context.Background(), inserted)
			assert.ErrorIs(t, err, ErrInvalidCookie, "Decode(%q inserted at %d)", b, p)
			if p < len(v) {
				replaced := v[:p] + b + v[p+1:]
				_, err := e.M.Decode(context.Background(), replaced)
				assert.ErrorIs(t, err, ErrInvalidCookie, "Decode(%q replacing %d)", b, p)
			}
		}
		// A validly signed value whose payload holds the byte.
		s := signerOf(t, e.M)
		_, err := e.M.Decode(context.Background(), s.signRaw([]byte(payload+b+"."+ts)))
		assert.ErrorIs(t, err, ErrMalformed, "a signed payload with %q", b)
	}
}

// Each timestamp is signed with the real key, so only the strict timestamp
// parser (and the age check) can reject it.
func TestSecurityTimeMalformedTimestamps(t *testing.T) {
	clk := NewClock(TestStart)
	e := NewEnv(t, SessionConfig{Now: clk.Now})
	s := signerOf(t, e.M)
	payload, ts, _ := cookieParts(t, e.ValidCookie())
	enc := func(b ...byte) string { return b64.EncodeToString(b) }
	cases := []struct {
		name string
		ts   string
		want error
	}{
		{"genuine", ts, nil},
		{"empty", "", ErrMalformed},
		{"leading zero byte", enc(0, 0x69, 0x9b, 0x3c, 0x40), ErrMalformed},
		{"all zero", enc(0, 0, 0, 0), ErrMalformed},
		{"negative as int64", enc(0x80, 0, 0, 0, 0, 0, 0, 0), ErrMalformed},
		{"all ones", enc(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ErrMalformed},
		{"above 2^62", enc(0x40, 0, 0, 0, 0, 0, 0, 1), ErrMalformed},
		{"nine bytes", enc(1, 0, 0, 0, 0, 0, 0, 0, 0), ErrMalformed},
		{"twelve characters", "AAAAAAAAAAAA", ErrMalformed},
		{"one character", "A", ErrMalformed},
		{"padded", ts + "=", ErrMalformed},
		{"decimal", "1772366400", ErrMalformed},
		{"minus sign", "-w", ErrExpired}, // base64url: "-" is a digit; 0xfb is 1970
		{"zero", enc(0), ErrExpired},
		{"epoch plus one", enc(1), ErrExpired},
		{"year 2200", enc(intToBytes(uint64(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))...), ErrFuture},
	}
	for _, c := range cases {
		v := s.signRaw([]byte(payload + "." + c.ts))
		_, err := e.M.Decode(context.Background(), v)
		if c.want == nil {
			assert.NoError(t, err, "%s (%q)", c.name, c.ts)
		} else {
			assert.ErrorIs(t, err, c.want, "%s (%q)", c.name, c.ts)
			assert.ErrorIs(t, err, ErrInvalidCookie, "%s (%q)", c.name, c.ts)
			assert.Empty(t, e.Load("session="+v).Values, "%s: the middleware accepted it", c.name)
		}
	}
}
