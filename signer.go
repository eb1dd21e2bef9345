package sessions

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// This file implements the signing layers of the itsdangerous wire format:
// Signer (HMAC over the value with a derived key) and TimestampSigner (a
// base64 big-endian Unix timestamp between value and signature). Signing
// always uses the first key; verification tries every key in order and
// reports whether a later (fallback) key matched.

// keyDerivation names the itsdangerous key derivation methods.
type keyDerivation int

const (
	deriveHMAC         keyDerivation = iota // hmac(secret, salt)
	deriveDjangoConcat                      // hash(salt + "signer" + secret)
	deriveConcat                            // hash(salt + secret)
	deriveNone                              // secret as is
)

// digestSHA1 and digestSHA256 are the digests itsdangerous users pick.
var (
	digestSHA1   = sha1.New
	digestSHA256 = sha256.New
)

var b64 = base64.RawURLEncoding.Strict()

// signer is itsdangerous.TimestampSigner (and, through signRaw/unsignRaw,
// itsdangerous.Signer).
type signer struct {
	keys   [][]byte // derived keys; keys[0] signs
	digest func() hash.Hash
	sigLen int // length of a base64 signature
	// macs[i] pools HMACs keyed with keys[i]: building one costs two
	// digest blocks and five allocations, Reset restores it for free.
	macs []sync.Pool
}

// pooledMAC is what a signer's pools hold: a keyed HMAC and a scratch
// buffer for the bytes it hashes.
type pooledMAC struct {
	mac hash.Hash
	buf []byte
	sum [64]byte // Sum's output; a local array would escape through the interface
}

func newSigner(secrets [][]byte, salt string, digest func() hash.Hash, kd keyDerivation) *signer {
	s := &signer{digest: digest, sigLen: b64.EncodedLen(digest().Size())}
	for _, secret := range secrets {
		s.keys = append(s.keys, deriveKey(secret, salt, digest, kd))
	}
	s.macs = make([]sync.Pool, len(s.keys))
	for i, key := range s.keys {
		s.macs[i].New = func() any { return &pooledMAC{mac: hmac.New(digest, key)} }
	}
	return s
}

func deriveKey(secret []byte, salt string, digest func() hash.Hash, kd keyDerivation) []byte {
	switch kd {
	case deriveHMAC:
		mac := hmac.New(digest, secret)
		mac.Write([]byte(salt))
		return mac.Sum(nil)
	case deriveDjangoConcat:
		h := digest()
		h.Write([]byte(salt))
		h.Write([]byte("signer"))
		h.Write(secret)
		return h.Sum(nil)
	case deriveConcat:
		h := digest()
		h.Write([]byte(salt))
		h.Write(secret)
		return h.Sum(nil)
	default:
		return secret
	}
}

// signature appends the base64 signature of value under keys[k] to dst.
func (s *signer) signature(dst []byte, k int, value []byte) []byte {
	p := s.macs[k].Get().(*pooledMAC)
	p.mac.Reset()
	p.mac.Write(value)
	dst = b64.AppendEncode(dst, p.mac.Sum(p.sum[:0]))
	s.macs[k].Put(p)
	return dst
}

// signatureString is signature for a value held in a string.
func (s *signer) signatureString(dst []byte, k int, value string) []byte {
	p := s.macs[k].Get().(*pooledMAC)
	p.buf = append(p.buf[:0], value...)
	p.mac.Reset()
	p.mac.Write(p.buf)
	dst = b64.AppendEncode(dst, p.mac.Sum(p.sum[:0]))
	if cap(p.buf) <= MaxCookieSize {
		s.macs[k].Put(p)
	}
	return dst
}

// sign returns value + "." + timestamp + "." + signature.
func (s *signer) sign(value []byte, now time.Time) string {
	buf := make([]byte, 0, len(value)+s.signedExtra())
	buf = append(buf, value...)
	return bufString(s.appendSigned(buf, now))
}

// signedExtra is how many bytes appendSigned adds at most.
func (s *signer) signedExtra() int { return 1 + 11 + 1 + s.sigLen }

// appendSigned treats buf as the value and appends "." + timestamp + "." +
// signature to it.
func (s *signer) appendSigned(buf []byte, now time.Time) []byte {
	ts := now.Unix()
	if ts < 0 {
		ts = 0
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, intToBytes(uint64(ts)))
	return s.appendSig(buf)
}

// signRaw returns value + "." + signature (itsdangerous.Signer).
func (s *signer) signRaw(value []byte) string {
	buf := make([]byte, 0, len(value)+1+s.sigLen)
	buf = append(buf, value...)
	return bufString(s.appendSig(buf))
}

// bufString returns the bytes of buf as a string without copying them. The
// caller made buf for this string and must not use it again: a string's
// bytes never change.
func bufString(buf []byte) string { return unsafe.String(unsafe.SliceData(buf), len(buf)) }

func (s *signer) appendSig(buf []byte) []byte {
	n := len(buf)
	buf = append(buf, '.')
	return s.signature(buf, 0, buf[:n])
}

// unsignRaw verifies value + "." + signature and returns value and whether a
// fallback key was needed.
func (s *signer) unsignRaw(signed string) (value string, stale bool, err error) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false, malformed("no signature")
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != s.sigLen {
		return "", false, ErrBadSignature
	}
	var buf, sigBuf [128]byte
	sigBytes := append(sigBuf[:0], sig...)
	for k := range s.keys {
		want := s.signatureString(buf[:0], k, value)
		// Comparing canonical base64 text (not decoded bytes) rejects a
		// signature whose last character differs only in unused bits.
		if subtle.ConstantTimeCompare(want, sigBytes) == 1 {
			// Base64 decoders skip CR and LF, so a signed value holding
			// them would decode like one without: accept printable ASCII
			// only, as the signer writes.
			for j := 0; j < len(value); j++ {
				if value[j] < 0x21 || value[j] > 0x7e {
					return "", false, malformed("control or non-ASCII byte")
				}
			}
			return value, k > 0, nil
		}
	}
	return "", false, ErrBadSignature
}

// unsign verifies a TimestampSigner value and returns the value, the time
// it was signed, and whether a fallback key was needed. It does not check
// the age; the caller does.
func (s *signer) unsign(signed string) (value string, issued time.Time, stale bool, err error) {
	v, stale, err := s.unsignRaw(signed)
	if err != nil {
		return "", time.Time{}, false, err
	}
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return "", time.Time{}, false, malformed("no timestamp")
	}
	ts, err := parseTimestamp(v[i+1:])
	if err != nil {
		return "", time.Time{}, false, err
	}
	return v[:i], time.Unix(ts, 0), stale, nil
}

// parseTimestamp decodes itsdangerous's base64 big-endian timestamp, strictly:
// canonical base64, 1 to 8 bytes, no leading zero byte, not negative.
func parseTimestamp(s string) (int64, error) {
	if len(s) == 0 || len(s) > 11 {
		return 0, malformed("bad timestamp")
	}
	var raw [9]byte
	b, err := b64.AppendDecode(raw[:0], []byte(s))
	if err != nil || len(b) == 0 || len(b) > 8 || (b[0] == 0 && len(b) > 1) {
		return 0, malformed("bad timestamp")
	}
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	if n > 1<<62 {
		return 0, malformed("bad timestamp")
	}
	return int64(n), nil
}

// intToBytes is itsdangerous's int_to_bytes: big-endian, no leading zeros.
func intToBytes(n uint64) []byte {
	var b [8]byte
	i := 8
	for n > 0 {
		i--
		b[i] = byte(n)
		n >>= 8
	}
	return b[i:]
}
