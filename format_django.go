package sessions

import (
	"crypto/subtle"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file implements FormatDjango: the cookie of Django's
// django.contrib.sessions.backends.signed_cookies (cookie "sessionid"),
// which is signing.dumps(session, compress=True, salt=djangoSalt):
//
//	b64url(json) or "." + b64url(zlib(json)), the latter when shorter by more than one byte
//	":" + the Unix time in base62
//	":" + b64url(HMAC-SHA256(SHA-256(djangoSalt + "signer" + SECRET_KEY), everything before))
//
// base64url without padding throughout. Django reads the JSON as latin-1,
// so what Go writes is pure ASCII (every other character \u-escaped, as
// Python's json.dumps writes it), and a byte above 0x7F in a cookie is
// read as the latin-1 character Django reads. Django 3.2 also accepts the
// legacy SHA-1 signatures of Django before 3.1; this format accepts
// SHA-256 only, as Django 4.0 and later do. FallbackKeys are Django 4.1's
// SECRET_KEY_FALLBACKS.
//
// A login is Django's: the user id in "_auth_user_id" (the primary key as
// a string); "_auth_user_backend" and "_auth_user_hash", which Django
// checks on every request, are plain session values that
// SessionConfig.OnLogin sets (see DjangoAuthHash). Creation time and
// flashes, which Django's session has no place for, live under
// ReservedKey.

// djangoSalt is the salt of the signed_cookies backend.
const djangoSalt = "django.contrib.sessions.backends.signed_cookies"

// djangoUserID is django.contrib.auth's SESSION_KEY.
const djangoUserID = "_auth_user_id"

// djangoCodec is the FormatDjango codec.
type djangoCodec struct {
	s *signer
}

// newDjangoCodec returns the codec for keys: keys[0] is Django's
// SECRET_KEY, the rest its SECRET_KEY_FALLBACKS.
func newDjangoCodec(keys [][]byte) *djangoCodec {
	return &djangoCodec{s: newSigner(keys, djangoSalt, digestSHA256, deriveDjangoConcat)}
}

func (c *djangoCodec) Encode(payload []byte, now time.Time) (string, error) {
	data := asciiJSON(payload)
	body, compressed := data, false
	d := deflaters.Get().(*deflater)
	d.buf.Reset()
	d.zw.Reset(&d.buf)
	d.zw.Write(data)
	d.zw.Close()
	if d.buf.Len() < len(data)-1 {
		body, compressed = d.buf.Bytes(), true
	}
	out := make([]byte, 0, 1+b64.EncodedLen(len(body))+1+8+1+c.s.sigLen)
	if compressed {
		out = append(out, '.')
	}
	out = b64.AppendEncode(out, body)
	if d.buf.Cap() <= maxPayload {
		deflaters.Put(d)
	}
	out = append(out, ':')
	out = appendBase62(out, max(now.Unix(), 0))
	n := len(out)
	out = append(out, ':')
	out = c.s.signature(out, 0, out[:n])
	return string(out), nil
}

func (c *djangoCodec) Decode(value string, _ time.Time) (Decoded, error) {
	signed, stale, err := c.unsign(value)
	if err != nil {
		return Decoded{}, err
	}
	i := strings.LastIndexByte(signed, ':')
	if i < 0 {
		return Decoded{}, malformed("no timestamp")
	}
	ts, ok := parseBase62(signed[i+1:])
	if !ok {
		return Decoded{}, malformed("bad timestamp")
	}
	payload, err := decodeSerialized(signed[:i])
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Payload: latin1ToUTF8Bytes(payload), Issued: time.Unix(ts, 0), Stale: stale}, nil
}

// unsign verifies value + ":" + signature with each key, in constant time,
// before anything of the value is decoded, and accepts printable ASCII
// only, as Django writes it.
func (c *djangoCodec) unsign(value string) (string, bool, error) {
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return "", false, malformed("no signature")
	}
	v, sig := value[:i], value[i+1:]
	if len(sig) != c.s.sigLen {
		return "", false, ErrBadSignature
	}
	var buf, sigBuf [128]byte
	sigBytes := append(sigBuf[:0], sig...)
	for k := range c.s.keys {
		if subtle.ConstantTimeCompare(c.s.signatureString(buf[:0], k, v), sigBytes) == 1 {
			for j := 0; j < len(v); j++ {
				if v[j] < 0x21 || v[j] > 0x7e {
					return "", false, malformed("control or non-ASCII byte")
				}
			}
			return v, k > 0, nil
		}
	}
	return "", false, ErrBadSignature
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendBase62 appends n (not negative) as django.utils.baseconv.base62
// writes it.
func appendBase62(dst []byte, n int64) []byte {
	if n == 0 {
		return append(dst, '0')
	}
	var b [11]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = base62Digits[n%62]
		n /= 62
	}
	return append(dst, b[i:]...)
}

// parseBase62 reads a timestamp appendBase62 writes, strictly: digits of
// the alphabet only, no leading zero, at most 1<<62.
func parseBase62(s string) (int64, bool) {
	if s == "" || len(s) > 11 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base62Digits, s[i])
		if d < 0 || n > (1<<62-int64(d))/62 {
			return 0, false
		}
		n = n*62 + int64(d)
	}
	return n, true
}

// asciiJSON returns JSON text with every character outside ASCII written
// as a \u escape (a surrogate pair beyond U+FFFF), as Python's json.dumps
// writes it by default. Outside strings, JSON text is ASCII already.
func asciiJSON(data []byte) []byte {
	i := 0
	for i < len(data) && data[i] < utf8.RuneSelf {
		i++
	}
	if i == len(data) {
		return data
	}
	out := make([]byte, 0, len(data)+len(data)/2)
	out = append(out, data[:i]...)
	for i < len(data) {
		c := data[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			out = appendU(appendU(out, r1), r2)
		} else {
			out = appendU(out, r) // the encoder wrote valid UTF-8: never RuneError
		}
		i += size
	}
	return out
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

// latin1ToUTF8Bytes is latin1ToUTF8 for a payload: Django decodes the
// JSON as latin-1, so a byte above 0x7F is that character.
func latin1ToUTF8Bytes(b []byte) []byte {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return []byte(latin1ToUTF8(string(b)))
		}
	}
	return b
}

// djangoScheme keeps the user id in django.contrib.auth's "_auth_user_id"
// and the rest of the metadata under ReservedKey.
type djangoScheme struct{ defaultScheme }

func (s djangoScheme) reserved(key string) bool {
	return key == djangoUserID || s.defaultScheme.reserved(key)
}

func (s djangoScheme) split(values map[string]any) (meta, error) {
	uid, hasUID := values[djangoUserID]
	delete(values, djangoUserID)
	m, err := s.defaultScheme.split(values)
	if err != nil {
		return meta{}, err
	}
	if hasUID {
		switch id := uid.(type) {
		case string:
			m.UserID = id
		case json.Number: // value_to_string gives a str; a number means the same
			m.UserID = string(id)
		default:
			return meta{}, malformed(djangoUserID + " is not a string")
		}
	}
	return m, nil
}

func (s djangoScheme) appendMeta(dst []byte, m meta) []byte {
	dst = appendReservedObject(dst, m)
	if m.UserID != "" {
		dst = append(dst, `,"`+djangoUserID+`":`...)
		dst = appendString(dst, m.UserID)
	}
	return dst
}
