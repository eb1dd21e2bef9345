package sessions

import "github.com/ctxsession/sessions/internal/strictjson"

// The strict JSON decoder every format shares, and the encoder for session
// values, live in internal/strictjson, which documents the rules they
// enforce. These adapters give the rest of the package its own error type.

// maxDepth is the deepest nesting a session payload may have.
const maxDepth = strictjson.MaxDepth

// parseObject decodes data, which must be exactly one JSON object. Its
// errors match ErrMalformed (and so ErrInvalidCookie).
func parseObject(data []byte) (map[string]any, error) { return parseObjectString(string(data)) }

// parseObjectString is parseObject for input held in a string, which the
// values share.
func parseObjectString(src string) (map[string]any, error) { return parseObjectInto(src, "", nil) }

// parseObjectInto is parseObjectString, except that the top-level member
// named key, when it is an object, is decoded into into, an empty map (see
// strictjson.DecodeObjectInto).
func parseObjectInto(src, key string, into map[string]any) (map[string]any, error) {
	m, err := strictjson.DecodeObjectInto(src, key, into)
	if err == nil {
		return m, nil
	}
	if se, ok := err.(*strictjson.SyntaxError); ok {
		return nil, malformed(se.Reason)
	}
	return nil, malformed(err.Error())
}

// appendJSON appends the compact JSON encoding of v, object keys sorted.
func appendJSON(dst []byte, v any) ([]byte, error) { return strictjson.AppendValue(dst, v) }

// appendObject appends m as a JSON object, its keys sorted.
func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	return strictjson.AppendObject(dst, m)
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte { return strictjson.AppendString(dst, s) }
