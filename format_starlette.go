package sessions

import (
	"encoding/base64"
	"time"
)

// This file implements FormatStarlette: Starlette's SessionMiddleware
// writes b64encode(json.dumps(session)) (standard alphabet, padded) signed
// by itsdangerous.TimestampSigner(str(secret_key)) with its defaults: salt
// "itsdangerous.Signer", django-concat key derivation, SHA-1. Starlette has
// no user-id convention and no flashes, so the metadata stays under
// ReservedKey, which a Starlette app sees as one more session key.
//
// The value contains '+', '/' and '=', which cookies allow unquoted:
// net/http writes it as is, and Starlette's cookie parser and ours both
// remove double quotes should a proxy add them.

// starletteSalt is itsdangerous.Signer's default salt.
const starletteSalt = "itsdangerous.Signer"

var b64std = base64.StdEncoding.Strict()

// starletteCodec is Starlette's SessionMiddleware cookie.
type starletteCodec struct {
	s *signer
}

// newStarletteCodec returns the codec for keys: keys[0] is Starlette's
// secret_key. Starlette itself has one key; the fallbacks are ours.
func newStarletteCodec(keys [][]byte) *starletteCodec {
	return &starletteCodec{s: newSigner(keys, starletteSalt, digestSHA1, deriveDjangoConcat)}
}

func (c *starletteCodec) Encode(payload []byte, now time.Time) (string, error) {
	out := make([]byte, 0, b64std.EncodedLen(len(payload))+c.s.signedExtra())
	return bufString(c.s.appendSigned(b64std.AppendEncode(out, payload), now)), nil
}

func (c *starletteCodec) Decode(value string, _ time.Time) (Decoded, error) {
	v, issued, stale, err := c.s.unsign(value)
	if err != nil {
		return Decoded{}, err
	}
	payload, err := b64std.DecodeString(v)
	if err != nil {
		return Decoded{}, malformed("bad base64 payload")
	}
	return Decoded{Payload: payload, Issued: issued, Stale: stale, owned: true}, nil
}
