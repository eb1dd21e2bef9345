package sessions

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"sync"
	"time"
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

// compressMin is the shortest payload Encode tries to compress. Below it,
// zlib (at least 9 bytes of framing) rarely gains and never by much, and
// the attempt costs more than the rest of the encoding; itsdangerous, which
// always tries, reads both forms.
const compressMin = 128

// deflater is a pooled zlib writer and its output buffer. BestSpeed:
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
	// As itsdangerous does: the compressed form only when it is shorter by
	// more than the "." that marks it.
	if len(payload) >= compressMin {
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
	return bufString(c.s.appendSigned(out, now)), nil
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
	return Decoded{Payload: payload, Issued: issued, Stale: stale, owned: true}, nil
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
