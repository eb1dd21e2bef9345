package sessions

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// This file implements FormatEncrypted with github.com/gorilla/securecookie:
// the value is AES-256-CTR encrypted under a random IV, and HMAC-SHA256
// covers the cookie name, securecookie's timestamp and the ciphertext. Both
// keys come from SecretKey (and from each FallbackKey, for rotation) by
// HKDF-SHA256 with no salt and an info string naming the purpose and the
// cookie:
//
//	hash key:  HKDF(secret, info "ctxsession securecookie hmac-sha256 " + CookieName), 32 bytes
//	block key: HKDF(secret, info "ctxsession securecookie aes-256 " + CookieName), 32 bytes
//
// so there is no second secret to manage, and a cookie minted for one
// cookie name does not verify under another.
//
// The plaintext is securecookie's NopEncoder over our own bytes: the issue
// time (8 bytes, big-endian Unix seconds, taken from SessionConfig.Now) and
// then the JSON payload, which the middleware parses with its strict
// decoder. The embedded issue time is what MaxAge and IdleTimeout measure.
// securecookie's own timestamp (always the wall clock) is checked against
// MaxAge too, so both agree when the clock is the wall clock; the embedded
// time alone follows a settable clock.
//
// A value in any other format (an itsdangerous cookie, for instance) fails
// securecookie's MAC and is rejected: an encrypted configuration never
// falls back to reading plaintext.

// HKDF info prefixes of FormatEncrypted; the cookie name follows.
const (
	encHashInfo  = "ctxsession securecookie hmac-sha256 "
	encBlockInfo = "ctxsession securecookie aes-256 "
)

// encryptedCodec is the FormatEncrypted codec.
type encryptedCodec struct {
	name   string
	codecs []*securecookie.SecureCookie // codecs[0] encodes
}

// encryptionKeys returns the securecookie hash and block keys for one
// secret and cookie name.
func encryptionKeys(secret []byte, cookieName string) (hashKey, blockKey []byte, err error) {
	if hashKey, err = hkdf.Key(sha256.New, secret, nil, encHashInfo+cookieName, 32); err != nil {
		return nil, nil, err
	}
	if blockKey, err = hkdf.Key(sha256.New, secret, nil, encBlockInfo+cookieName, 32); err != nil {
		return nil, nil, err
	}
	return hashKey, blockKey, nil
}

func newEncryptedCodec(keys [][]byte, cookieName string, maxAge time.Duration) (*encryptedCodec, error) {
	c := &encryptedCodec{name: cookieName}
	for _, k := range keys {
		hk, bk, err := encryptionKeys(k, cookieName)
		if err != nil {
			return nil, configErr("deriving encryption keys: %v", err)
		}
		sc := securecookie.New(hk, bk)
		sc.SetSerializer(securecookie.NopEncoder{})
		sc.MaxAge(int(maxAge / time.Second))
		sc.MaxLength(0) // the middleware enforces MaxCookieSize
		c.codecs = append(c.codecs, sc)
	}
	return c, nil
}

func (c *encryptedCodec) Encode(payload []byte, now time.Time) (string, error) {
	ts := now.Unix()
	if ts < 0 {
		ts = 0
	}
	// A fresh buffer: securecookie encrypts it in place.
	plain := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(ts))
	plain = append(plain, payload...)
	v, err := c.codecs[0].Encode(c.name, plain)
	if err != nil {
		return "", fmt.Errorf("sessions: encrypting cookie: %w", err)
	}
	return v, nil
}

func (c *encryptedCodec) Decode(value string, _ time.Time) (Decoded, error) {
	// Go's base64 decoders skip CR and LF, and securecookie's ignores the
	// unused bits of the last character: only the canonical encoding of a
	// value is accepted here, so no two strings decode to one cookie.
	if !canonicalBase64URL(value) {
		return Decoded{}, malformed("bad base64")
	}
	for i, sc := range c.codecs {
		var plain []byte
		err := sc.Decode(c.name, value, &plain)
		if errors.Is(err, securecookie.ErrMacInvalid) {
			continue // another key may verify it
		}
		if err != nil {
			if strings.Contains(err.Error(), "expired") {
				return Decoded{}, fmt.Errorf("%w: %v", ErrExpired, err)
			}
			return Decoded{}, malformed("securecookie: " + err.Error())
		}
		if len(plain) < 8 {
			return Decoded{}, malformed("encrypted value too short")
		}
		ts := binary.BigEndian.Uint64(plain)
		if ts > 1<<62 {
			return Decoded{}, malformed("bad timestamp")
		}
		return Decoded{Payload: plain[8:], Issued: time.Unix(int64(ts), 0), Stale: i > 0}, nil
	}
	return Decoded{}, ErrBadSignature
}

// canonicalBase64URL reports whether v is the one padded base64url
// encoding of some bytes: only the alphabet and '=' padding, a length that
// is a multiple of four, and zero unused bits.
func canonicalBase64URL(v string) bool {
	if len(v)%4 != 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	_, err := base64.URLEncoding.Strict().DecodeString(v)
	return err == nil
}
