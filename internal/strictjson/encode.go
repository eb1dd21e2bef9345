package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	errKeyNotUTF8    = errors.New("not valid UTF-8")
	errStringNotUTF8 = errors.New("string is not valid UTF-8")
	errTooDeep       = errors.New("nesting deeper than " + strconv.Itoa(MaxDepth) + " levels (a value that contains itself?)")
)

// An encodeError reports a value AppendValue cannot encode, and the object
// keys that lead to it. It unwraps to its cause, which may be an error of
// encoding/json (such as *json.UnsupportedTypeError).
type encodeError struct {
	path []string // object keys from the innermost out
	err  error
}

func (e *encodeError) Error() string {
	var b strings.Builder
	b.WriteString("strictjson: ")
	if len(e.path) > 0 {
		b.WriteString("key ")
		for i := len(e.path) - 1; i >= 0; i-- {
			if i < len(e.path)-1 {
				b.WriteByte('.')
			}
			if i < len(e.path)-maxPathShown {
				b.WriteString("...")
				break
			}
			b.WriteString(strconv.Quote(e.path[i]))
		}
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(e.err.Error(), "json: "))
	return b.String()
}

func (e *encodeError) Unwrap() error { return e.err }

// maxPathShown is how many keys of a path an error message names, from the
// outermost in (a value that contains itself has a path MaxDepth long).
const maxPathShown = 8

// withKey adds the object key k to the path of err, an error from encoding
// the value of k.
func withKey(err error, k string) error {
	if e, ok := err.(*encodeError); ok {
		e.path = append(e.path, k)
	}
	return err
}

// AppendValue appends the compact JSON encoding of v. The types DecodeObject
// returns (and the common Go scalars) are encoded here; anything else goes
// through encoding/json, and its output is checked by the decoder's rules.
// Object keys are sorted, so equal values encode to equal bytes. It never
// writes what DecodeObject would refuse: a string or key that is not valid
// UTF-8, nesting deeper than MaxDepth (a value that contains itself among
// them), duplicate keys (a map whose keys collide once stringified) are
// errors. A float64 NaN or infinity is written as Python's json writes it
// (NaN, Infinity, -Infinity), and so is a string holding a lone surrogate
// in generalized UTF-8 (an escape such as \ud800): the decoder reads both
// back. An error names the object keys that lead to the value that
// cannot be encoded.
func AppendValue(dst []byte, v any) ([]byte, error) { return appendValue(dst, v, 0) }

// appendValue is AppendValue for a value inside depth arrays and objects
// (as DecodeObject counts: the value of a top-level key has depth 1).
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		if !validWTF8(v) {
			return dst, &encodeError{err: errStringNotUTF8}
		}
		return AppendString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case json.Number:
		return appendNumber(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case float64:
		switch {
		case math.IsNaN(v):
			return append(dst, "NaN"...), nil
		case math.IsInf(v, 1):
			return append(dst, "Infinity"...), nil
		case math.IsInf(v, -1):
			return append(dst, "-Infinity"...), nil
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.AppendInt(dst, int64(v), 10), nil
		}
	case map[string]any:
		return appendObject(dst, v, depth)
	case []any:
		return appendArray(dst, v, depth)
	case []string:
		if depth >= MaxDepth {
			return dst, &encodeError{err: errTooDeep}
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if !validWTF8(e) {
				return dst, &encodeError{err: errStringNotUTF8}
			}
			dst = AppendString(dst, e)
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, &encodeError{err: err}
	}
	// encoding/json replaces invalid UTF-8 silently, lets map keys collide
	// once stringified and nests as deep as the value does: what it wrote
	// must pass the decoder.
	if err := checkValue(b, depth); err != nil {
		return dst, &encodeError{err: fmt.Errorf("encoding/json wrote what the decoder refuses: %w", err)}
	}
	if bytes.Contains(b, []byte(`\ufffd`)) {
		return dst, &encodeError{err: errors.New("a string or key is not valid UTF-8")}
	}
	return append(dst, b...), nil
}

// appendNumber appends n, "" as 0. Besides the JSON grammar it writes the
// three non-finite tokens the decoder reads.
func appendNumber(dst []byte, n json.Number) ([]byte, error) {
	if n == "" {
		return append(dst, '0'), nil
	}
	if !ValidNumber(string(n)) && !NonFinite(string(n)) {
		return dst, &encodeError{err: errors.New("invalid json.Number " + strconv.Quote(string(n)))}
	}
	return append(dst, n...), nil
}

func appendArray(dst []byte, a []any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, &encodeError{err: errTooDeep}
	}
	dst = append(dst, '[')
	for i, e := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, e, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// AppendObject appends m as a JSON object, its members sorted by key. A key
// that is not valid UTF-8 (lone surrogates in generalized UTF-8 aside) is an
// error: its invalid bytes would encode as U+FFFD, so two keys could collide
// into a duplicate that DecodeObject rejects.
func AppendObject(dst []byte, m map[string]any) ([]byte, error) { return appendObject(dst, m, 0) }

// appendObject is AppendObject for an object inside depth others.
func appendObject(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, &encodeError{err: errTooDeep}
	}
	// A session's top level rarely has more keys than fit on the stack.
	var small [16]string
	keys := small[:0]
	if len(m) > len(small) {
		keys = make([]string, 0, len(m))
	}
	for k := range m {
		if !validWTF8(k) {
			return dst, &encodeError{path: []string{k}, err: errKeyNotUTF8}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, m[k], depth+1); err != nil {
			return dst, withKey(err, k)
		}
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. A lone surrogate in generalized
// UTF-8 (as the decoder returns it) is written as its \u escape, lowercase
// as Python writes it; other invalid UTF-8 becomes U+FFFD, as in
// encoding/json; U+2028 and U+2029 are escaped; HTML characters are not (a
// session payload is not HTML).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			if sr, ok := loneSurrogate(s, i); ok {
				dst = append(dst, '\\', 'u', 'd', hexDigits[sr>>8&0xF], hexDigits[sr>>4&0xF], hexDigits[sr&0xF])
				i += 3
			} else {
				dst = append(dst, `\ufffd`...)
				i += size
			}
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// NonFinite reports whether s is one of the tokens Python's json writes for
// float values JSON has no number for: NaN, Infinity, -Infinity.
func NonFinite(s string) bool {
	return s == "NaN" || s == "Infinity" || s == "-Infinity"
}

// surrogateAt returns the surrogate code point whose generalized UTF-8
// (WTF-8) form starts at s[i], if one does.
func surrogateAt(s string, i int) (rune, bool) {
	if i+3 > len(s) || s[i] != 0xED || s[i+1] < 0xA0 || s[i+1] > 0xBF || s[i+2] < 0x80 || s[i+2] > 0xBF {
		return 0, false
	}
	return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
}

// loneSurrogate returns the surrogate at s[i] unless it is a high surrogate
// followed by a low one: that pair is one character, which UTF-8 writes in
// four bytes, and the escapes of the two halves would decode as it.
func loneSurrogate(s string, i int) (rune, bool) {
	r, ok := surrogateAt(s, i)
	if !ok {
		return 0, false
	}
	if r < 0xDC00 {
		if next, ok := surrogateAt(s, i+3); ok && next >= 0xDC00 {
			return 0, false
		}
	}
	return r, true
}

// validWTF8 reports whether s is valid UTF-8 except for lone surrogates in
// their three-byte form: exactly the strings the decoder returns.
func validWTF8(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if _, ok := loneSurrogate(s, i); !ok {
				return false
			}
			size = 3
		}
		i += size
	}
	return true
}
