package interop

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests check FormatEncrypted against an independent implementation
// of the same format in Python (testdata/peers/encrypted_peer.py, with the
// `cryptography` package's HKDF and AES-CTR), in both directions.

const encryptedPeer = "testdata/peers/encrypted_peer.py"

type encOp struct {
	Op      string   `json:"op"`
	Secret  string   `json:"secret,omitempty"`
	Secrets []string `json:"secrets,omitempty"`
	Name    string   `json:"name"`
	Payload string   `json:"payload,omitempty"`
	Issued  int64    `json:"issued,omitempty"`
	Date    int64    `json:"date,omitempty"`
	Value   string   `json:"value,omitempty"`
	MaxAge  int64    `json:"max_age,omitempty"`
}

type encResult struct {
	Hash    string `json:"hash"`
	Block   string `json:"block"`
	Value   string `json:"value"`
	Payload string `json:"payload"`
	Issued  int64  `json:"issued"`
	Error   string `json:"error"`
}

func runEncrypted(t *testing.T, ops ...encOp) []encResult {
	t.Helper()
	for i := range ops {
		if ops[i].Name == "" {
			ops[i].Name = sessions.DefaultCookieName
		}
		if ops[i].Op == "open" && ops[i].Secrets == nil {
			ops[i].Secrets = []string{testKey}
		}
		if ops[i].Secret == "" && ops[i].Op != "open" {
			ops[i].Secret = testKey
		}
		if ops[i].MaxAge == 0 {
			ops[i].MaxAge = int64(sessions.DefaultMaxAge / time.Second)
		}
	}
	return peerJSON[encOp, encResult](t, python3, encryptedPeer, ops)
}

// encryptedKeys and openEncrypted implement FormatEncrypted from its
// description in format_encrypted.go, with the standard library only: a
// deliberate second implementation, independent of the package's code (and
// of gorilla/securecookie), so that the tests check the documented format.
//
//	hash key  = HKDF-SHA256(secret, no salt, info "ctxsession securecookie hmac-sha256 " + name), 32 bytes
//	block key = HKDF-SHA256(secret, no salt, info "ctxsession securecookie aes-256 " + name), 32 bytes
//	value     = base64url(date "|" inner "|" HMAC-SHA256(hash key, name "|" date "|" inner))
//	inner     = base64url(iv + AES-256-CTR(block key, iv, issued (8 bytes, big-endian) + JSON))
func encryptedKeys(t *testing.T, secret, name string) (hashKey, blockKey []byte) {
	t.Helper()
	hashKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "ctxsession securecookie hmac-sha256 "+name, 32)
	require.NoError(t, err)
	blockKey, err = hkdf.Key(sha256.New, []byte(secret), nil, "ctxsession securecookie aes-256 "+name, 32)
	require.NoError(t, err)
	return hashKey, blockKey
}

// openEncrypted verifies and decrypts a FormatEncrypted value (see
// encryptedKeys) and returns its embedded issue time and JSON payload.
func openEncrypted(t *testing.T, secret, name, value string) (time.Time, string) {
	t.Helper()
	hashKey, blockKey := encryptedKeys(t, secret, name)
	raw, err := base64.URLEncoding.DecodeString(value)
	require.NoError(t, err, "outer base64")
	parts := strings.SplitN(string(raw), "|", 3)
	require.Len(t, parts, 3, "date|inner|mac")
	date, inner, tag := parts[0], parts[1], parts[2]
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte(name + "|" + date + "|" + inner))
	require.True(t, hmac.Equal(mac.Sum(nil), []byte(tag)), "HMAC-SHA256 over name|date|inner does not match")
	data, err := base64.URLEncoding.DecodeString(inner)
	require.NoError(t, err, "inner base64")
	require.Greater(t, len(data), aes.BlockSize+8, "ciphertext too short")
	block, err := aes.NewCipher(blockKey)
	require.NoError(t, err)
	plain := make([]byte, len(data)-aes.BlockSize)
	cipher.NewCTR(block, data[:aes.BlockSize]).XORKeyStream(plain, data[aes.BlockSize:])
	return time.Unix(int64(binary.BigEndian.Uint64(plain)), 0), string(plain[8:])
}

func TestEncryptedKeyDerivationMatchesPython(t *testing.T) {
	t.Parallel()
	out := runEncrypted(t, encOp{Op: "keys", Name: "sid"}, encOp{Op: "keys", Name: "other"})
	for i, name := range []string{"sid", "other"} {
		hk, bk := encryptedKeys(t, testKey, name)
		assert.Equal(t, hex.EncodeToString(hk), out[i].Hash, "hash key for %q: Go, Python", name)
		assert.Equal(t, hex.EncodeToString(bk), out[i].Block, "block key for %q: Go, Python", name)
		assert.NotEqual(t, hk, bk, "hash and block keys are equal")
	}
	assert.NotEqual(t, out[0].Hash, out[1].Hash, "keys do not depend on the cookie name")

	// The package uses exactly these keys and this layout: its cookie opens
	// with the implementation above.
	issued := time.Unix(time.Now().Unix()-60, 0)
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatEncrypted, CookieName: "sid", Now: fixedClock(issued)})
	gotIssued, payload := openEncrypted(t, testKey, "sid", g.encode(t, map[string]any{"k": "v"}))
	assert.True(t, gotIssued.Equal(issued), "embedded issue time %v, want %v", gotIssued, issued)
	var values map[string]any
	require.NoError(t, decodeJSON(payload, &values), "payload %q", payload)
	assert.Equal(t, "v", values["k"], "payload %s", payload)
}

func TestEncryptedInteropRoundTrip(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatEncrypted})
	now := time.Now().Unix()
	out := runEncrypted(t, encOp{Op: "seal", Payload: `{"user":"ann","n":41,"secret":"hunter2"}`, Issued: now - 60, Date: now})
	got := g.serve(t, out[0].Value, nil)
	assert.Equal(t, map[string]any{"user": "ann", "n": json41, "secret": "hunter2"}, got.Values, "Go read Python's cookie")
	// The payload has no creation time: the session counts from the
	// embedded issue time.
	assert.Equal(t, now-60, got.Created.Unix(), "Created (the embedded issue time)")

	res := g.serve(t, out[0].Value, func(r *http.Request, s *sessions.Session) {
		assert.NoError(t, sessions.LoginKeep(r.Context(), "ann-id", "user", "secret"), "LoginKeep")
		s.Set("n", 42)
	})
	require.True(t, res.Set, "Go set no cookie")
	// The payload is hidden: no part of the cookie, decoded, shows it.
	raw, _ := base64.URLEncoding.DecodeString(res.Cookie)
	assert.NotContains(t, string(raw), "hunter2", "encrypted cookie shows its payload")
	assert.NotContains(t, res.Cookie, "hunter2", "encrypted cookie shows its payload")
	back := runEncrypted(t, encOp{Op: "open", Value: res.Cookie})
	require.Empty(t, back[0].Error, "Python could not open Go's cookie")
	var opened map[string]any
	require.NoError(t, decodeJSON(back[0].Payload, &opened), "Python opened %q", back[0].Payload)
	assert.Equal(t, json42, opened["n"], "Python opened %s", back[0].Payload)
	assert.Equal(t, "hunter2", opened["secret"], "Python opened %s", back[0].Payload)
	md, _ := opened[sessions.ReservedKey].(map[string]any)
	assert.Equal(t, "ann-id", md["uid"], "Python opened %s", back[0].Payload)
	d := back[0].Issued - time.Now().Unix()
	assert.True(t, d <= 1 && d >= -60, "Python read issue time %d, want about now", back[0].Issued)
}

func TestEncryptedInteropRejects(t *testing.T) {
	t.Parallel()
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatEncrypted})
	now := time.Now().Unix()
	old := daysAgo(15).Unix()
	p := `{"k":"v"}`
	out := runEncrypted(t,
		encOp{Op: "seal", Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Secret: wrongKey, Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Payload: p, Issued: old, Date: now},
		encOp{Op: "seal", Payload: p, Issued: old, Date: old},
		encOp{Op: "seal", Name: "other", Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Payload: `{"k":"v","k":"w"}`, Issued: now, Date: now},
	)
	_, err := g.decode(t, out[0].Value)
	require.NoError(t, err, "Go rejected Python's good cookie")
	// A plaintext cookie of the default format, same key and name: never
	// read by an encrypted configuration.
	plain := newGo(t, sessions.SessionConfig{}).encode(t, map[string]any{"k": "v"})
	g.wantRejected(t, "Python", []badCookie{
		{"tampered", tamper(out[0].Value), sessions.ErrInvalidCookie},
		{"wrong key", out[1].Value, sessions.ErrBadSignature},
		{"issued 15 days ago", out[2].Value, sessions.ErrExpired},
		{"sealed 15 days ago", out[3].Value, sessions.ErrExpired},
		{"other cookie name", out[4].Value, sessions.ErrBadSignature},
		{"duplicate JSON key", out[5].Value, sessions.ErrMalformed},
		{"plaintext itsdangerous", plain, sessions.ErrInvalidCookie},
	})

	cases := g.goCookies(t, map[string]any{"k": "v"})
	var ops []encOp
	for _, tc := range cases {
		ops = append(ops, encOp{Op: "open", Value: tc.value})
	}
	for i, r := range runEncrypted(t, ops...) {
		accepted := r.Error == "" && strings.Contains(r.Payload, `"k":"v"`)
		assert.Equal(t, cases[i].accept, accepted, "Python opened Go's %s cookie: %+v", cases[i].name, r)
	}
}

func TestEncryptedInteropKeyRotation(t *testing.T) {
	t.Parallel()
	now := time.Now().Unix()
	out := runEncrypted(t, encOp{Op: "seal", Secret: oldKey, Payload: `{"k":"v"}`, Issued: now, Date: now})
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatEncrypted, SecretKey: testKey, FallbackKeys: []string{oldKey}})
	res := g.serve(t, out[0].Value, nil)
	require.Equal(t, "v", res.Values["k"], "Go with the fallback key")
	require.True(t, res.Set, "Go did not re-encrypt the fallback-key cookie")
	check := runEncrypted(t, encOp{Op: "open", Value: res.Cookie}, encOp{Op: "open", Value: out[0].Value})
	assert.Empty(t, check[0].Error, "Python on the new key rejected Go's re-encrypted cookie")
	assert.NotEmpty(t, check[1].Error, "Python on the new key opened the old cookie")
}
