package sessions

import (
	"bytes"
	"compress/zlib"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"
)

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
			if err != nil {
				t.Fatal(err)
			}
			if got != v.cookie {
				t.Errorf("Encode(%s)\n got %s\nwant %s", v.payload, got, v.cookie)
			}
			d, err := c.Decode(v.cookie, vectorTime)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if string(d.Payload) != v.payload || !d.Issued.Equal(vectorTime) || d.Stale {
				t.Errorf("Decode = %s, %v, stale %v; want %s, %v, false", d.Payload, d.Issued, d.Stale, v.payload, vectorTime)
			}
		})
	}
	for _, v := range compressedVectors {
		t.Run(v.name, func(t *testing.T) {
			d, err := c.Decode(v.cookie, vectorTime)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if string(d.Payload) != v.payload {
				t.Errorf("Decode payload = %s, want %s", d.Payload, v.payload)
			}
			// Our own encoding of the same payload is compressed too and
			// reads back.
			enc, err := c.Encode([]byte(v.payload), vectorTime)
			if err != nil {
				t.Fatal(err)
			}
			if v.goCompresses && !strings.HasPrefix(enc, ".") {
				t.Errorf("Encode(%s) = %s, want a compressed (\".\"-prefixed) value", v.payload, enc)
			}
			back, err := c.Decode(enc, vectorTime)
			if err != nil || string(back.Payload) != v.payload {
				t.Errorf("round trip = %s, %v", back.Payload, err)
			}
		})
	}
}

// TestEncodeAtVector pins the whole cookie a Middleware writes for a
// session, metadata layout included.
func TestEncodeAtVector(t *testing.T) {
	m, err := New(SessionConfig{SecretKey: vectorKey})
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeAt(m, map[string]any{"user": "alice", ReservedKey: "dropped"}, vectorTime)
	if err != nil {
		t.Fatal(err)
	}
	if want := cookieVectors[2].cookie; got != want {
		t.Errorf("encodeAt\n got %s\nwant %s", got, want)
	}
}

func TestCodecKeyRotation(t *testing.T) {
	fallbackSigned := "eyJhIjoxfQ.ZVPxAA.eQ__i6q9fk8wNgdWnMITP7KhA_fJxytC1yP26oIm24M" // {"a":1} under vectorOldKey
	rotated := vectorCodec("session", vectorKey, vectorOldKey)

	d, err := rotated.Decode(fallbackSigned, vectorTime)
	if err != nil {
		t.Fatalf("Decode with fallback key: %v", err)
	}
	if !d.Stale || string(d.Payload) != `{"a":1}` {
		t.Errorf("Decode = %s stale %v, want {\"a\":1} stale true", d.Payload, d.Stale)
	}
	d, err = rotated.Decode(cookieVectors[1].cookie, vectorTime)
	if err != nil || d.Stale {
		t.Errorf("Decode with current key: stale %v, err %v; want not stale, nil", d.Stale, err)
	}
	// Signing never uses a fallback key.
	enc, _ := rotated.Encode([]byte(`{"a":1}`), vectorTime)
	if enc != cookieVectors[1].cookie {
		t.Errorf("Encode with fallback configured = %s, want the current key's %s", enc, cookieVectors[1].cookie)
	}
	// Without the fallback the old cookie is rejected.
	if _, err := vectorCodec("session", vectorKey).Decode(fallbackSigned, vectorTime); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Decode without fallback: err %v, want ErrBadSignature", err)
	}
}

func TestCodecBindsCookieName(t *testing.T) {
	hostCookie := "eyJhIjoxfQ.ZVPxAA.1ASyUsG21LVmoOF4YM3VxSSdL_WY6HSFHSzIICaMIP8" // {"a":1}, name __Host-s
	if _, err := vectorCodec("__Host-s", vectorKey).Decode(hostCookie, vectorTime); err != nil {
		t.Errorf("Decode under its own name: %v", err)
	}
	if _, err := vectorCodec("session", vectorKey).Decode(hostCookie, vectorTime); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Decode under another name: err %v, want ErrBadSignature", err)
	}
}

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
		if got := s.signRaw([]byte("value")); got != tt.want {
			t.Errorf("kd %d: signRaw = %s, want %s", tt.kd, got, tt.want)
		}
		v, stale, err := s.unsignRaw(tt.want)
		if v != "value" || stale || err != nil {
			t.Errorf("kd %d: unsignRaw = %q, %v, %v; want \"value\", false, nil", tt.kd, v, stale, err)
		}
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
		if got := s.sign([]byte(tt.value), vectorTime); got != tt.want {
			t.Errorf("sign = %s, want %s", got, tt.want)
		}
		v, issued, _, err := s.unsign(tt.want)
		if v != tt.value || !issued.Equal(vectorTime) || err != nil {
			t.Errorf("unsign = %q, %v, %v", v, issued, err)
		}
	}
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
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidCookie) {
				t.Errorf("Decode(%q): err %v, want %v (and ErrInvalidCookie)", tt.value, err, tt.want)
			}
		})
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
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got := b64.EncodeToString(intToBytes(vectorUnix)); got != "ZVPxAA" {
		t.Errorf("intToBytes(%d) encodes to %s, want ZVPxAA", vectorUnix, got)
	}
	if got := intToBytes(0); len(got) != 0 {
		t.Errorf("intToBytes(0) = %v, want empty (itsdangerous's int_to_bytes)", got)
	}
}
