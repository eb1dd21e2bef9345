package sessions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rack-session (CVE-2026-39324) read a cookie as plaintext when it could not
// decrypt it. An encrypted configuration must reject every value that is
// not encrypted under its own keys, whatever else about it is valid.
func TestSecurityEncryptedRejectsPlaintext(t *testing.T) {
	enc := NewEnv(t, SessionConfig{Format: FormatEncrypted})
	v := enc.Issue("alice", map[string]any{"k": "v"})
	require.Equal(t, "alice", enc.Load("session="+v).UserID, "a genuine encrypted cookie")

	var plain []string
	// The same session in every other format, same key and cookie name.
	for _, f := range []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT} {
		plain = append(plain, NewEnv(t, SessionConfig{Format: f}).Issue("alice", map[string]any{"k": "v"}))
	}
	// securecookie with the right MAC key but no encryption: a valid MAC
	// over a plaintext payload.
	hashKey, _, err := encryptionKeys([]byte(TestKey), DefaultCookieName)
	require.NoError(t, err)
	sc := securecookie.New(hashKey, nil)
	sc.SetSerializer(securecookie.NopEncoder{})
	var body []byte
	body = binary.BigEndian.AppendUint64(body, uint64(TestStart.Unix()))
	body = append(body, `{"k":"v","`+ReservedKey+`":{"c":0,"uid":"alice"}}`...)
	unencrypted, err := sc.Encode(DefaultCookieName, body)
	require.NoError(t, err)
	plain = append(plain, unencrypted)
	// The encrypted cookie of another name, and bare base64 JSON.
	plain = append(plain,
		NewEnv(t, SessionConfig{Format: FormatEncrypted, CookieName: "other"}).Issue("alice", map[string]any{"k": "v"}),
		base64.URLEncoding.EncodeToString([]byte(`{"k":"v","`+ReservedKey+`":{"uid":"alice"}}`)),
	)

	for i, v := range plain {
		_, err := enc.M.Decode(context.Background(), v)
		assert.ErrorIs(t, err, ErrInvalidCookie, "value %d", i)
		seen := enc.Load("session=" + v)
		assert.Empty(t, seen.UserID, "value %d", i)
		assert.Empty(t, seen.Values, "value %d", i)
	}
}

// What "encrypted" promises: the session's content does not appear in the
// cookie, in any layer of its encoding.
func TestSecurityEncryptedHidesContent(t *testing.T) {
	enc := NewEnv(t, SessionConfig{Format: FormatEncrypted})
	v := enc.Issue("alice-the-user", map[string]any{"secret": "top-secret-value"})
	layers := [][]byte{[]byte(v)}
	for i := 0; i < len(layers) && i < 20; i++ {
		for _, part := range bytes.Split(layers[i], []byte("|")) {
			for _, e := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding} {
				if d, err := e.DecodeString(string(part)); err == nil && len(d) > 0 {
					layers = append(layers, d)
				}
			}
		}
	}
	for _, l := range layers {
		for _, secret := range []string{"top-secret-value", "alice-the-user", "secret"} {
			assert.NotContains(t, string(l), secret, "readable in the cookie")
		}
	}
	// The signed format, by contrast, only signs: the same content is
	// readable (see SECURITY.md).
	signed := NewEnv(t, SessionConfig{}).Issue("alice-the-user", map[string]any{"secret": "top-secret-value"})
	payload, _, _ := cookieParts(t, signed)
	raw, err := decodeSerialized(payload)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "top-secret-value", "the signed format's payload")
}

// TestSecurityEncryptedRejectsNonCanonical: an encrypted value with CR or
// LF inserted, or in any other non-canonical base64, is malformed, though
// Go's base64 would decode it to the same bytes.
func TestSecurityEncryptedRejectsNonCanonical(t *testing.T) {
	e := NewEnv(t, SessionConfig{Format: FormatEncrypted})
	ctx := context.Background()
	v := e.Mint(map[string]any{"k": "v"})
	got, err := e.M.Decode(ctx, v)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"k": "v"}, got)
	mid := len(v) / 2
	bads := []string{
		v[:mid] + "\r\n" + v[mid:],
		v[:mid] + "\n" + v[mid:],
		v + "\r",
		"\n" + v,
		v[:len(v)-4] + "\n" + v[len(v)-4:],
	}
	if strings.HasSuffix(v, "=") {
		bads = append(bads, strings.TrimRight(v, "=")) // padding removed
	}
	for _, bad := range bads {
		_, err := e.M.Decode(ctx, bad)
		require.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	// Unused bits of the last character set: the same bytes to a lenient
	// decoder, refused here.
	raw, err := base64.URLEncoding.DecodeString(v)
	require.NoError(t, err)
	if len(raw)%3 != 0 {
		alt := []byte(v)
		i := strings.IndexByte(v, '=') - 1
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		alt[i] = alphabet[strings.IndexByte(alphabet, alt[i])|1]
		if string(alt) != v {
			_, err := e.M.Decode(ctx, string(alt))
			require.ErrorIs(t, err, ErrMalformed)
		}
	}
}
