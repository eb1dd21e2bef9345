package sessions

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the strict JSON decoder every format shares, and the
// encoder for session values.
//
// encoding/json would accept duplicate keys (the last one wins, so two
// parsers can disagree about a signed payload), nesting thousands deep, and
// invalid UTF-8 (replaced silently). A cookie is attacker-controlled input
// behind a MAC that other systems also produce, so the decoder here rejects
// all three, keeps numbers exact as json.Number, and allocates only for the
// values it returns. FuzzJSON checks it against encoding/json: whatever it
// accepts, encoding/json accepts and decodes to the same value.

// maxDepth is the deepest nesting a session payload may have.
const maxDepth = 32

type jsonDecoder struct {
	data []byte
	// src is data as a string: strings and numbers without escapes are
	// slices of it, so a payload costs one string allocation, not one
	// per value.
	src   string
	pos   int
	depth int
	err   error
}

// parseObject decodes data, which must be exactly one JSON object.
func parseObject(data []byte) (map[string]any, error) {
	d := jsonDecoder{data: data, src: string(data)}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, malformed("payload is not a JSON object")
	}
	v := d.value()
	d.skipSpace()
	if d.err == nil && d.pos != len(d.data) {
		d.fail("trailing data after JSON object")
	}
	if d.err != nil {
		return nil, d.err
	}
	return v.(map[string]any), nil
}

func (d *jsonDecoder) fail(reason string) {
	if d.err == nil {
		d.err = malformed(reason)
	}
	d.pos = len(d.data)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() any {
	d.skipSpace()
	if d.pos >= len(d.data) {
		d.fail("unexpected end of JSON")
		return nil
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, _ := d.str()
		return s
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'n':
		return d.literal("null", nil)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		d.fail("unexpected character in JSON")
		return nil
	}
}

func (d *jsonDecoder) literal(word string, v any) any {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		d.fail("bad JSON literal")
		return nil
	}
	d.pos += len(word)
	return v
}

func (d *jsonDecoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail("JSON nested too deeply")
		return false
	}
	return true
}

func (d *jsonDecoder) object() any {
	if !d.enter() {
		return nil
	}
	d.pos++ // '{'
	m := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m
	}
	for d.err == nil {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			d.fail("expected JSON object key")
			return nil
		}
		k, _ := d.str()
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			d.fail("expected ':' in JSON object")
			return nil
		}
		d.pos++
		v := d.value()
		if d.err != nil {
			return nil
		}
		if _, dup := m[k]; dup {
			d.fail("duplicate key in JSON object")
			return nil
		}
		m[k] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON")
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return m
		default:
			d.fail("expected ',' or '}' in JSON object")
			return nil
		}
	}
	return nil
}

func (d *jsonDecoder) array() any {
	if !d.enter() {
		return nil
	}
	d.pos++ // '['
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a
	}
	for d.err == nil {
		v := d.value()
		if d.err != nil {
			return nil
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON")
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return a
		default:
			d.fail("expected ',' or ']' in JSON array")
			return nil
		}
	}
	return nil
}

// number scans a JSON number (RFC 8259 grammar) and returns it as json.Number.
func (d *jsonDecoder) number() any {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && data[p] >= '1' && data[p] <= '9':
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	default:
		d.fail("bad JSON number")
		return nil
	}
	if p < len(data) && data[p] == '.' {
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.fail("bad JSON number")
			return nil
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.fail("bad JSON number")
			return nil
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	return json.Number(d.src[start:p])
}

// str scans a JSON string starting at the opening quote.
func (d *jsonDecoder) str() (string, bool) {
	d.pos++ // opening quote
	start := d.pos
	data := d.data
	// Fast path: no escapes, all ASCII.
	for p := start; p < len(data); p++ {
		c := data[p]
		if c == '"' {
			d.pos = p + 1
			return d.src[start:p], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	var out []byte
	p := start
	for p < len(data) {
		c := data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			return string(out), true
		case c < 0x20:
			d.fail("control character in JSON string")
			return "", false
		case c == '\\':
			if p+1 >= len(data) {
				d.fail("bad escape in JSON string")
				return "", false
			}
			p++
			switch data[p] {
			case '"', '\\', '/':
				out = append(out, data[p])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n := d.unicodeEscape(p - 1)
				if n == 0 {
					return "", false
				}
				out = utf8.AppendRune(out, r)
				p += n - 2 // the loop adds 1 below; n counts from the backslash
			default:
				d.fail("bad escape in JSON string")
				return "", false
			}
			p++
		case c < 0x80:
			out = append(out, c)
			p++
		default:
			r, size := utf8.DecodeRune(data[p:])
			if r == utf8.RuneError && size <= 1 {
				d.fail("invalid UTF-8 in JSON string")
				return "", false
			}
			out = append(out, data[p:p+size]...)
			p += size
		}
	}
	d.fail("unterminated JSON string")
	return "", false
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at data[at]
// (the backslash). It returns the rune and the bytes consumed, 0 on error.
// Lone surrogates are rejected: they are not valid Unicode scalar values.
func (d *jsonDecoder) unicodeEscape(at int) (rune, int) {
	r1, ok := hex4(d.data, at+2)
	if !ok {
		d.fail("bad \\u escape in JSON string")
		return 0, 0
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6
	}
	if r1 >= 0xDC00 || at+12 > len(d.data) || d.data[at+6] != '\\' || d.data[at+7] != 'u' {
		d.fail("lone surrogate in JSON string")
		return 0, 0
	}
	r2, ok := hex4(d.data, at+8)
	r := utf16.DecodeRune(r1, r2)
	if !ok || r == utf8.RuneError {
		d.fail("lone surrogate in JSON string")
		return 0, 0
	}
	return r, 12
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendJSON appends the compact JSON encoding of v. The types a decoded
// session holds (and the common Go scalars) are encoded here; anything else
// goes through encoding/json. Object keys are sorted, so equal sessions
// encode to equal bytes.
func appendJSON(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case json.Number:
		if v == "" {
			return append(dst, '0'), nil
		}
		if !validNumber(string(v)) {
			return dst, errors.New("sessions: invalid json.Number " + strconv.Quote(string(v)))
		}
		return append(dst, v...), nil
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
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return dst, errors.New("sessions: unsupported float value " + strconv.FormatFloat(v, 'g', -1, 64))
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.AppendInt(dst, int64(v), 10), nil
		}
	case map[string]any:
		return appendObject(dst, v)
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !utf8.ValidString(k) {
			// Invalid bytes would all encode as U+FFFD, so two keys could
			// collide into a payload the strict decoder then rejects.
			return dst, errors.New("sessions: session key " + strconv.Quote(k) + " is not valid UTF-8")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, m[k]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// in encoding/json; HTML characters are not escaped (a cookie is not HTML).
func appendString(dst []byte, s string) []byte {
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
			dst = append(dst, `\ufffd`...)
			i += size
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

func validNumber(s string) bool {
	d := jsonDecoder{data: []byte(s), src: s}
	d.number()
	return d.err == nil && d.pos == len(s)
}
