package sessions

import (
	"bytes"
	"compress/zlib"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// A small cookie whose zlib payload inflates past the cap is rejected
// without inflating it all.
func TestSecurityPayloadCompressionBomb(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	s := signerOf(t, e.M)
	const inflated = 2 << 20 // 2 MiB of JSON from a cookie under 4 KiB
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write([]byte(`{"a":"`))
	zw.Write(bytes.Repeat([]byte("a"), inflated))
	zw.Write([]byte(`"}`))
	zw.Close()
	body := "." + b64.EncodeToString(z.Bytes())
	ts := b64.EncodeToString(intToBytes(uint64(TestStart.Unix())))
	bomb := s.signRaw([]byte(body + "." + ts))
	require.LessOrEqual(t, len("session=")+len(bomb), MaxCookieSize, "the bomb must fit in a cookie")
	_, err := e.M.Decode(context.Background(), bomb)
	require.ErrorIs(t, err, ErrMalformed, "Decode(bomb)")
	assert.LessOrEqual(t, BytesPerRun(func() { e.M.Decode(context.Background(), bomb) }), uint64(1<<20),
		"bytes Decode allocates for a bomb of %d bytes inflating to %d", len(bomb), inflated)
	assert.Empty(t, e.Load("session="+bomb).Values, "the middleware accepted the bomb")

	// Just under the cap is accepted: the cap, not zlib, rejects the bomb.
	z.Reset()
	zw.Reset(&z)
	zw.Write([]byte(`{"a":"`))
	zw.Write(bytes.Repeat([]byte("a"), maxPayload-8))
	zw.Write([]byte(`"}`))
	zw.Close()
	okValue := s.signRaw([]byte("." + b64.EncodeToString(z.Bytes()) + "." + ts))
	_, err = e.M.Decode(context.Background(), okValue)
	assert.NoError(t, err, "Decode(payload of %d bytes)", maxPayload)
}

// The vectors below were produced once by Python's itsdangerous 2.2 and are
// pinned here, so that a change to the wire format fails a test even where
// python3 is not installed. They were generated with
//
//	class P(TimestampSigner):
//	    def get_timestamp(self): return 1700000000
//	URLSafeTimedSerializer(vectorKey, salt="ctxsession:session", signer=P,
//	    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}).dumps(obj)
//
// and Signer(vectorKey, salt="vector-salt", key_derivation=kd, digest_method=dm).sign(b"value").
const (
	vectorKey    = "ctxsession-test-vector-key-0123456789"
	vectorOldKey = "ctxsession-old-vector-key-9876543210"
	vectorUnix   = 1700000000
)

var vectorTime = time.Unix(vectorUnix, 0)

// cookieVectors are URLSafeTimedSerializer outputs for payloads whose JSON
// text Python reproduces byte for byte (same key order, compact separators).
var cookieVectors = []struct {
	name    string
	payload string
	cookie  string
}{
	{"empty object", `{}`,
		"e30.ZVPxAA.lV9VE8qrtyPjbZdxr10rZTAkJhxwrAe_xMnmdlQkH8Q"},
	{"one key", `{"a":1}`,
		"eyJhIjoxfQ.ZVPxAA.6wYCRyZsRKsJfc2Tjrfqoc83HAtP2IYBjSozbkHQRvY"},
	{"user key and metadata", `{"user":"alice","_ctxsession":{"c":1700000000}}`,
		"eyJ1c2VyIjoiYWxpY2UiLCJfY3R4c2Vzc2lvbiI6eyJjIjoxNzAwMDAwMDAwfX0.ZVPxAA.fA6XD9tgUZiS_HTm5mYmJHqwmy4l8hAUz7AOi8OgAQk"},
	{"flash", `{"user":"alice","_ctxsession":{"c":1700000000,"f":[["info","hi"]]}}`,
		"eyJ1c2VyIjoiYWxpY2UiLCJfY3R4c2Vzc2lvbiI6eyJjIjoxNzAwMDAwMDAwLCJmIjpbWyJpbmZvIiwiaGkiXV19fQ.ZVPxAA.FmQaHD50ccXDybwe1R74AdUAcPRwN5RxUzXSZqoOAr8"},
	{"logged in", `{"cart":[1,2,3],"_ctxsession":{"c":1699990000,"fresh":true,"uid":"42"}}`,
		"eyJjYXJ0IjpbMSwyLDNdLCJfY3R4c2Vzc2lvbiI6eyJjIjoxNjk5OTkwMDAwLCJmcmVzaCI6dHJ1ZSwidWlkIjoiNDIifX0.ZVPxAA.VANRoWUbffY86jgovsNOeWW8H6nfniRuABOr7nxeakM"},
}

// compressedVectors were compressed by Python's zlib. Go's deflate picks
// different bytes for the same input (and ends with an empty 5-byte stored
// block), so these pin decoding only; goCompresses says whether Go's own
// output is short enough to be compressed too.
var compressedVectors = []struct {
	name         string
	payload      string
	cookie       string
	goCompresses bool
}{
	{"unicode and a big integer", `{"msg":"héllo ☃ 𝄞","n":12345678901234567890123}`,
		".eJyrVsotTleyUso4vDInJ1_h0YxmhQ9zW-Yp6SjlKVkZGhmbmJqZW1gaoLBqAQYFENE.ZVPxAA.cRk1xIuz11V4W5XqaUkno-9TWGm9-pmk_swGZHIXkcc", false},
	{"repetitive list", `{"items":["item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4","item-0","item-1","item-2","item-3","item-4"]}`,
		".eJyrVsosSc0tVrKKBjN0DZR0IAxDGMMIxjCGMUxgjFHFpCuOrQUA3vFn1Q.ZVPxAA.v74L15QuG4U24FTcFfuNfh31NsPNAd2kVXdiqN3COCI", true},
}

func vectorCodec(name string, keys ...string) *itsdangerousCodec {
	raw := make([][]byte, len(keys))
	for i, k := range keys {
		raw[i] = []byte(k)
	}
	return newItsdangerousCodec(newSigner(raw, "ctxsession:"+name, digestSHA256, deriveHMAC))
}

func TestCodecVectors(t *testing.T) {
	c := vectorCodec("session", vectorKey)
	for _, v := range cookieVectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := c.Encode([]byte(v.payload), vectorTime)
			require.NoError(t, err)
			assert.Equal(t, v.cookie, got, "Encode(%s)", v.payload)
			d, err := c.Decode(v.cookie, vectorTime)
			require.NoError(t, err, "Decode")
			assert.Equal(t, v.payload, string(d.Payload))
			assert.Equal(t, vectorTime, d.Issued)
			assert.False(t, d.Stale, "Stale")
		})
	}
	for _, v := range compressedVectors {
		t.Run(v.name, func(t *testing.T) {
			d, err := c.Decode(v.cookie, vectorTime)
			require.NoError(t, err, "Decode")
			assert.Equal(t, v.payload, string(d.Payload))
			// Our own encoding of the same payload is compressed too and
			// reads back.
			enc, err := c.Encode([]byte(v.payload), vectorTime)
			require.NoError(t, err)
			if v.goCompresses {
				assert.True(t, strings.HasPrefix(enc, "."), "Encode(%s) = %s, want a compressed (\".\"-prefixed) value", v.payload, enc)
			}
			back, err := c.Decode(enc, vectorTime)
			require.NoError(t, err)
			assert.Equal(t, v.payload, string(back.Payload), "round trip")
		})
	}
}

func TestCodecKeyRotation(t *testing.T) {
	fallbackSigned := "eyJhIjoxfQ.ZVPxAA.eQ__i6q9fk8wNgdWnMITP7KhA_fJxytC1yP26oIm24M" // {"a":1} under vectorOldKey
	rotated := vectorCodec("session", vectorKey, vectorOldKey)

	d, err := rotated.Decode(fallbackSigned, vectorTime)
	require.NoError(t, err, "Decode with fallback key")
	assert.True(t, d.Stale, "Stale with a fallback key")
	assert.Equal(t, `{"a":1}`, string(d.Payload))
	d, err = rotated.Decode(cookieVectors[1].cookie, vectorTime)
	require.NoError(t, err, "Decode with the current key")
	assert.False(t, d.Stale, "Stale with the current key")
	// Signing never uses a fallback key.
	enc, err := rotated.Encode([]byte(`{"a":1}`), vectorTime)
	require.NoError(t, err)
	assert.Equal(t, cookieVectors[1].cookie, enc, "Encode with a fallback configured")
	// Without the fallback the old cookie is rejected.
	_, err = vectorCodec("session", vectorKey).Decode(fallbackSigned, vectorTime)
	assert.ErrorIs(t, err, ErrBadSignature, "Decode without the fallback")
}

func TestCodecBindsCookieName(t *testing.T) {
	hostCookie := "eyJhIjoxfQ.ZVPxAA.1ASyUsG21LVmoOF4YM3VxSSdL_WY6HSFHSzIICaMIP8" // {"a":1}, name __Host-s
	_, err := vectorCodec("__Host-s", vectorKey).Decode(hostCookie, vectorTime)
	assert.NoError(t, err, "Decode under its own name")
	_, err = vectorCodec("session", vectorKey).Decode(hostCookie, vectorTime)
	assert.ErrorIs(t, err, ErrBadSignature, "Decode under another name")
}

func TestCodecRejects(t *testing.T) {
	c := vectorCodec("session", vectorKey)
	good := cookieVectors[1].cookie // eyJhIjoxfQ.ZVPxAA.<sig>
	payload, rest, _ := strings.Cut(good, ".")
	tsPart, sig, _ := strings.Cut(rest, ".")
	// resign signs a value part (payload + "." + timestamp) with the right
	// key, so that only the property under test is wrong.
	resign := func(value string) string { return c.s.signRaw([]byte(value)) }
	bomb := func() string {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(bytes.Repeat([]byte(" "), maxPayload+10))
		zw.Close()
		return resign("." + b64.EncodeToString(buf.Bytes()) + "." + tsPart)
	}()
	flipped := []byte(sig)
	flipped[0] ^= 1

	tests := []struct {
		name  string
		value string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"no dots", "abc", ErrMalformed},
		{"tampered payload", "eyJhIjoyfQ." + rest, ErrBadSignature},
		{"tampered signature", payload + "." + tsPart + "." + string(flipped), ErrBadSignature},
		{"truncated signature", good[:len(good)-1], ErrBadSignature},
		{"truncated to the timestamp", payload + "." + tsPart, ErrBadSignature},
		{"signature with padding", good + "=", ErrBadSignature},
		// The last base64 character of a SHA-256 signature carries two
		// unused bits; a value that differs only there is not canonical.
		{"non-canonical signature", good[:len(good)-1] + string(good[len(good)-1]+1), ErrBadSignature},
		{"wrong key", vectorCodec("session", vectorOldKey).s.sign([]byte(payload), vectorTime), ErrBadSignature},
		{"no timestamp", resign(payload), ErrMalformed},
		{"timestamp with padding", resign(payload + ".ZVPxAA=="), ErrMalformed},
		{"non-canonical timestamp", resign(payload + ".ZVPxAB"), ErrMalformed},
		{"timestamp with leading zero byte", resign(payload + ".AGVT8QA"), ErrMalformed},
		{"timestamp too long", resign(payload + ".AAAAAAAAAAAAAAAA"), ErrMalformed},
		{"empty timestamp", resign(payload + "."), ErrMalformed},
		{"payload with padding", resign("eyJhIjoxfQ==." + tsPart), ErrMalformed},
		{"payload in standard base64", resign("eyJhIjoxfQ+/." + tsPart), ErrMalformed},
		{"bad zlib", resign("." + b64.EncodeToString([]byte{0x78, 0x9c, 0xff, 0xff, 0}) + "." + tsPart), ErrMalformed},
		{"zip bomb", bomb, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Decode(tt.value, vectorTime)
			assert.ErrorIs(t, err, tt.want, "Decode(%q)", tt.value)
			assert.ErrorIs(t, err, ErrInvalidCookie, "Decode(%q)", tt.value)
		})
	}
}
