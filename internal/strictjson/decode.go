package strictjson

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

type decoder struct {
	// src is the input: strings and numbers without escapes are slices of
	// it, so a payload costs at most one string allocation (the copy
	// DecodeObject makes), not one per value.
	src   string
	pos   int
	depth int
	err   *SyntaxError
	// into, until used, is the map the top-level member named intoKey is
	// decoded into when its value is an object (DecodeObjectInto).
	into    map[string]any
	intoKey string
}

// DecodeObject decodes data, which must be exactly one JSON object.
func DecodeObject(data []byte) (map[string]any, error) { return DecodeObjectString(string(data)) }

// DecodeObjectString is DecodeObject for input held in a string, which it
// does not copy: strings in the result share its bytes.
func DecodeObjectString(src string) (map[string]any, error) { return DecodeObjectInto(src, "", nil) }

// DecodeObjectInto is DecodeObjectString, except that the first value of
// the top-level member named key, when it is an object, is decoded into
// into (which must be empty) instead of a new map: a caller that reads that
// member and drops it can reuse one map for it. into may be nil.
func DecodeObjectInto(src, key string, into map[string]any) (map[string]any, error) {
	d := decoder{src: src, into: into, intoKey: key}
	d.skipSpace()
	if d.pos >= len(d.src) || d.src[d.pos] != '{' {
		d.fail("payload is not a JSON object")
		return nil, d.err
	}
	v := d.value()
	d.skipSpace()
	if d.err == nil && d.pos != len(d.src) {
		d.fail("trailing data after JSON object")
	}
	if d.err != nil {
		return nil, d.err
	}
	return v.(map[string]any), nil
}

// checkValue reports whether data is exactly one JSON value that
// DecodeObject would accept at nesting depth (0 at the top level).
func checkValue(data []byte, depth int) error {
	d := decoder{src: string(data), depth: depth}
	d.value()
	d.skipSpace()
	if d.err == nil && d.pos != len(d.src) {
		d.fail("trailing data after JSON value")
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

// ValidNumber reports whether s is a JSON number (RFC 8259 grammar).
func ValidNumber(s string) bool {
	end, _ := numberEnd(s, 0)
	return end == len(s)
}

// fail records the first error, found at the current position, and stops
// the decoder.
func (d *decoder) fail(reason string) { d.failAt(d.pos, reason) }

// failAt records the first error, found at offset at, and stops the
// decoder.
func (d *decoder) failAt(at int, reason string) {
	if d.err == nil {
		d.err = &SyntaxError{Reason: reason, Offset: at}
	}
	d.pos = len(d.src)
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() any {
	d.skipSpace()
	if d.pos >= len(d.src) {
		d.fail("unexpected end of JSON")
		return nil
	}
	switch c := d.src[d.pos]; c {
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
	case 'N':
		return d.literal("NaN", json.Number("NaN"))
	case 'I':
		return d.literal("Infinity", json.Number("Infinity"))
	default:
		if c == '-' && d.pos+1 < len(d.src) && d.src[d.pos+1] == 'I' {
			return d.literal("-Infinity", json.Number("-Infinity"))
		}
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		d.fail("unexpected character in JSON")
		return nil
	}
}

// nextIs reports whether c is the next byte after white space, which it
// skips.
func (d *decoder) nextIs(c byte) bool {
	d.skipSpace()
	return d.pos < len(d.src) && d.src[d.pos] == c
}

func (d *decoder) literal(word string, v any) any {
	if len(d.src)-d.pos < len(word) || d.src[d.pos:d.pos+len(word)] != word {
		d.fail("bad JSON literal")
		return nil
	}
	d.pos += len(word)
	return v
}

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > MaxDepth {
		d.fail("JSON nested too deeply")
		return false
	}
	return true
}

func (d *decoder) object() any { return d.objectInto(nil) }

// objectInto decodes an object into m, or a new map when m is nil.
func (d *decoder) objectInto(m map[string]any) any {
	if !d.enter() {
		return nil
	}
	d.pos++ // '{'
	if m == nil {
		m = make(map[string]any)
	}
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.depth--
		return m
	}
	for d.err == nil {
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			d.fail("expected JSON object key")
			return nil
		}
		at := d.pos
		k, _ := d.str()
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			d.fail("expected ':' in JSON object")
			return nil
		}
		d.pos++
		var v any
		if d.into != nil && d.depth == 1 && k == d.intoKey && d.nextIs('{') {
			into := d.into
			d.into = nil
			v = d.objectInto(into)
		} else {
			v = d.value()
		}
		if d.err != nil {
			return nil
		}
		// One hash of k, not two: a key seen before leaves len(m) as it
		// was (and m is thrown away).
		n := len(m)
		m[k] = v
		if len(m) == n {
			d.failAt(at, "duplicate key in JSON object")
			return nil
		}
		d.skipSpace()
		if d.pos >= len(d.src) {
			d.fail("unexpected end of JSON")
			return nil
		}
		switch d.src[d.pos] {
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

func (d *decoder) array() any {
	if !d.enter() {
		return nil
	}
	d.pos++ // '['
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
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
		if d.pos >= len(d.src) {
			d.fail("unexpected end of JSON")
			return nil
		}
		switch d.src[d.pos] {
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
func (d *decoder) number() any {
	start := d.pos
	end, bad := numberEnd(d.src, start)
	if end < 0 {
		d.failAt(bad, "bad JSON number")
		return nil
	}
	d.pos = end
	return json.Number(d.src[start:end])
}

// numberEnd returns the end of the JSON number (RFC 8259 grammar) that
// starts at s[p], or -1 and the offset of the first byte that breaks the
// grammar.
func numberEnd(s string, p int) (end, bad int) {
	if p < len(s) && s[p] == '-' {
		p++
	}
	switch {
	case p < len(s) && s[p] == '0':
		p++
	case p < len(s) && s[p] >= '1' && s[p] <= '9':
		p = digitsEnd(s, p)
	default:
		return -1, p
	}
	if p < len(s) && s[p] == '.' {
		p++
		if p >= len(s) || s[p] < '0' || s[p] > '9' {
			return -1, p
		}
		p = digitsEnd(s, p)
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		p++
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		if p >= len(s) || s[p] < '0' || s[p] > '9' {
			return -1, p
		}
		p = digitsEnd(s, p)
	}
	return p, 0
}

// digitsEnd returns the end of the run of decimal digits at s[p].
func digitsEnd(s string, p int) int {
	for p < len(s) && s[p] >= '0' && s[p] <= '9' {
		p++
	}
	return p
}

// str scans a JSON string starting at the opening quote.
func (d *decoder) str() (string, bool) {
	d.pos++ // opening quote
	start := d.pos
	data := d.src
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
			d.failAt(p, "control character in JSON string")
			return "", false
		case c == '\\':
			if p+1 >= len(data) {
				d.failAt(p, "bad escape in JSON string")
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
				out = appendRune(out, r)
				p += n - 2 // the loop adds 1 below; n counts from the backslash
			default:
				d.failAt(p-1, "bad escape in JSON string")
				return "", false
			}
			p++
		case c < 0x80:
			out = append(out, c)
			p++
		default:
			r, size := utf8.DecodeRuneInString(data[p:])
			if r == utf8.RuneError && size <= 1 {
				d.failAt(p, "invalid UTF-8 in JSON string")
				return "", false
			}
			out = append(out, data[p:p+size]...)
			p += size
		}
	}
	d.failAt(start-1, "unterminated JSON string")
	return "", false
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at data[at]
// (the backslash). It returns the rune and the bytes consumed, 0 on error.
// A surrogate that is not half of a pair is returned as it is: Python's
// json writes one for a str that holds it, and appendRune keeps it.
func (d *decoder) unicodeEscape(at int) (rune, int) {
	r1, ok := hex4(d.src, at+2)
	if !ok {
		d.failAt(at, "bad \\u escape in JSON string")
		return 0, 0
	}
	if r1 < 0xD800 || r1 >= 0xDC00 || at+12 > len(d.src) || d.src[at+6] != '\\' || d.src[at+7] != 'u' {
		return r1, 6
	}
	if r2, ok := hex4(d.src, at+8); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
		return utf16.DecodeRune(r1, r2), 12
	}
	return r1, 6 // the escape that follows is read (or refused) on its own
}

// appendRune appends r as UTF-8, and a surrogate code point, which UTF-8
// cannot hold, in its three-byte generalized UTF-8 (WTF-8) form.
func appendRune(dst []byte, r rune) []byte {
	if utf16.IsSurrogate(r) {
		return append(dst, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(dst, r)
}

func hex4(data string, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for i := at; i < at+4; i++ {
		c := data[i]
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
