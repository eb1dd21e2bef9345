package sessions

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"sync"
	"time"
)

// A Codec turns a session's JSON payload into a cookie value and back. It
// owns integrity (and, for some formats, confidentiality) and the cookie's
// outer encoding; the middleware owns the JSON, which it parses with the
// same strict decoder for every codec.
//
// Implementations must be safe for concurrent use. Decode must not check the
// age of the value against MaxAge: it reports Issued and the middleware
// applies MaxAge, IdleTimeout and the clock skew. A Decode that fails must
// return an error matching ErrInvalidCookie.
type Codec interface {
	// Encode signs (and may encrypt) payload, a JSON object, recording now
	// as its issue time.
	Encode(payload []byte, now time.Time) (string, error)
	// Decode verifies value and returns its payload and issue time.
	Decode(value string, now time.Time) (Decoded, error)
}

// Decoded is what Codec.Decode returns.
type Decoded struct {
	// Payload is the JSON object that was encoded.
	Payload []byte
	// Issued is the time the value was encoded. The zero time means the
	// format carries no timestamp; the middleware then applies no age check.
	Issued time.Time
	// Stale reports that the value was verified with a fallback key; the
	// middleware re-encodes it with the current key on the same response.
	Stale bool
}

// Format selects one of the built-in cookie formats. The zero value is
// FormatItsdangerous.
type Format int

const (
	// FormatItsdangerous is the default: itsdangerous.URLSafeTimedSerializer
	// with salt "ctxsession:" + CookieName, HMAC key derivation and SHA-256.
	FormatItsdangerous Format = iota
	// FormatFlask is Flask's SecureCookieSessionInterface: itsdangerous
	// URLSafeTimedSerializer, salt "cookie-session", HMAC key derivation,
	// SHA-1, Flask's tagged JSON. The user id and freshness are Flask-Login's
	// "_user_id" and "_fresh", flashes are Flask's "_flashes".
	FormatFlask
	// FormatStarlette is Starlette's SessionMiddleware: base64 (standard
	// alphabet) JSON signed by itsdangerous.TimestampSigner with its
	// defaults (salt "itsdangerous.Signer", django-concat, SHA-1).
	FormatStarlette
	// FormatJWT is microdot's session cookie: an HS256 JWT whose claims are
	// the session. "iat" and "exp" are added when writing and enforced when
	// present; any other alg is rejected.
	FormatJWT
	// FormatEncrypted hides the session as well as signing it:
	// gorilla/securecookie (AES-256-CTR, HMAC-SHA256 over the cookie name,
	// time and value) with keys derived from SecretKey and each FallbackKey
	// by HKDF-SHA256.
	FormatEncrypted
)

// maxPayload caps the decompressed size of a payload, so a small compressed
// cookie cannot expand into a large allocation.
const maxPayload = 64 << 10

// itsdangerousCodec is itsdangerous.URLSafeTimedSerializer with a JSON
// object payload: base64url(payload or "." + zlib(payload)) . ts . sig.
type itsdangerousCodec struct {
	s *signer
}

func newItsdangerousCodec(s *signer) *itsdangerousCodec { return &itsdangerousCodec{s: s} }

// deflater is a pooled zlib writer and its output buffer. BestSpeed: the
// compression attempt runs on every save of a payload over 10 bytes, and
// resetting a level-6 writer clears 640 KiB of hash tables (tens of
// microseconds) to save a few bytes on session-sized payloads.
type deflater struct {
	zw  *zlib.Writer
	buf bytes.Buffer
}

var deflaters = sync.Pool{New: func() any {
	d := new(deflater)
	d.zw, _ = zlib.NewWriterLevel(&d.buf, zlib.BestSpeed)
	return d
}}

func (c *itsdangerousCodec) Encode(payload []byte, now time.Time) (string, error) {
	body := payload
	compressed := false
	var d *deflater
	if len(payload) > 10 { // zlib output is at least 9 bytes, so a shorter payload never gains
		d = deflaters.Get().(*deflater)
		d.buf.Reset()
		d.zw.Reset(&d.buf)
		d.zw.Write(payload)
		d.zw.Close()
		if d.buf.Len() < len(payload)-1 {
			body, compressed = d.buf.Bytes(), true
		}
	}
	out := make([]byte, 0, 1+b64.EncodedLen(len(body))+c.s.signedExtra())
	if compressed {
		out = append(out, '.')
	}
	out = b64.AppendEncode(out, body)
	if d != nil && d.buf.Cap() <= maxPayload {
		deflaters.Put(d)
	}
	return string(c.s.appendSigned(out, now)), nil
}

func (c *itsdangerousCodec) Decode(value string, _ time.Time) (Decoded, error) {
	v, issued, stale, err := c.s.unsign(value)
	if err != nil {
		return Decoded{}, err
	}
	payload, err := decodeSerialized(v)
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Payload: payload, Issued: issued, Stale: stale}, nil
}

// decodeSerialized undoes URLSafeSerializer.dump_payload: strict base64url,
// and zlib when the value starts with ".", capped at maxPayload.
func decodeSerialized(v string) ([]byte, error) {
	compressed := strings.HasPrefix(v, ".")
	if compressed {
		v = v[1:]
	}
	raw, err := b64.DecodeString(v)
	if err != nil {
		return nil, malformed("bad base64 payload")
	}
	if !compressed {
		return raw, nil
	}
	return inflate(raw)
}

// inflater is a pooled zlib reader and its source.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser // nil until first used
}

var inflaters sync.Pool

// inflate decompresses zlib data, refusing output over maxPayload.
func inflate(raw []byte) ([]byte, error) {
	f, _ := inflaters.Get().(*inflater)
	if f == nil {
		f = new(inflater)
	}
	f.src.Reset(raw)
	var err error
	if f.zr == nil {
		f.zr, err = zlib.NewReader(&f.src)
	} else {
		err = f.zr.(zlib.Resetter).Reset(&f.src, nil)
	}
	if err != nil {
		return nil, malformed("bad zlib payload")
	}
	out, err := io.ReadAll(io.LimitReader(f.zr, maxPayload+1))
	f.zr.Close()
	f.src.Reset(nil)
	inflaters.Put(f)
	if err != nil {
		return nil, malformed("bad zlib payload")
	}
	if len(out) > maxPayload {
		return nil, malformed("decompressed payload too large")
	}
	return out, nil
}
