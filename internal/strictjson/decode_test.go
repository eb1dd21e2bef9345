package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeObjectAccepts(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	tests := []struct {
		in   string
		want map[string]any
	}{
		{`{}`, map[string]any{}},
		{" \t\r\n{ } \n", map[string]any{}},
		{`{"a":1}`, map[string]any{"a": json.Number("1")}},
		{`{"n":-0,"e":1E+5,"f":-1.5e-3,"big":123456789012345678901234567890}`, map[string]any{
			"n": json.Number("-0"), "e": json.Number("1E+5"), "f": json.Number("-1.5e-3"),
			"big": json.Number("123456789012345678901234567890")}},
		{`{"t":true,"f":false,"z":null}`, map[string]any{"t": true, "f": false, "z": nil}},
		{`{"s":"a\"b\\c\/d\b\f\n\r\t"}`, map[string]any{"s": "a\"b\\c/d\b\f\n\r\t"}},
		{`{"u":"\u00e9\u2603\ud834\udd1e","raw":"é☃𝄞"}`, map[string]any{"u": "é☃𝄞", "raw": "é☃𝄞"}},
		{`{"\u0061":1,"b":2}`, map[string]any{"a": json.Number("1"), "b": json.Number("2")}},
		{`{"l":[],"o":{},"m":[1,[2,{"x":"y"}]]}`, map[string]any{
			"l": []any{}, "o": map[string]any{},
			"m": []any{json.Number("1"), []any{json.Number("2"), map[string]any{"x": "y"}}}}},
		{`{"":""}`, map[string]any{"": ""}},
		// What Python's json writes for floats JSON has no number for.
		{`{"n":NaN,"i":Infinity,"m":-Infinity,"l":[NaN]}`, map[string]any{
			"n": json.Number("NaN"), "i": json.Number("Infinity"), "m": json.Number("-Infinity"),
			"l": []any{json.Number("NaN")}}},
		// Lone surrogates, as Python's json writes a str holding one: kept
		// in generalized UTF-8; a pair is one character.
		{`{"h":"\ud800","l":"\udc00x","a":"\ud800\u0041","p":"\udbff\udfff","r":"\udc00\ud800","\udfff":1}`, map[string]any{
			"h": "\xed\xa0\x80", "l": "\xed\xb0\x80x", "a": "\xed\xa0\x80A", "p": "\U0010FFFF",
			"r": "\xed\xb0\x80\xed\xa0\x80", "\xed\xbf\xbf": json.Number("1")}},
		{`{"hh":"\ud800\ud800\udc00"}`, map[string]any{"hh": "\xed\xa0\x80\U00010000"}},
		{deep, nil}, // MaxDepth levels: accepted
	}
	for _, tt := range tests {
		got, err := DecodeObject([]byte(tt.in))
		if !assert.NoError(t, err, "DecodeObject(%s)", tt.in) {
			continue
		}
		if tt.want != nil {
			assert.Equal(t, tt.want, got, "DecodeObject(%s)", tt.in)
		}
	}
}

func TestDecodeObjectRejects(t *testing.T) {
	tests := []struct {
		name, in string
		reason   string
		offset   int
	}{
		{"empty", ``, "payload is not a JSON object", 0},
		{"space only", `  `, "payload is not a JSON object", 2},
		{"array", `[]`, "payload is not a JSON object", 0},
		{"string", `"s"`, "payload is not a JSON object", 0},
		{"number", `1`, "payload is not a JSON object", 0},
		{"null", `null`, "payload is not a JSON object", 0},
		{"byte order mark", "\ufeff{}", "payload is not a JSON object", 0},
		{"unterminated object", `{`, "expected JSON object key", 1},
		{"unterminated after key", `{"a"`, "expected ':' in JSON object", 4},
		{"unterminated after colon", `{"a":`, "unexpected end of JSON", 5},
		{"unterminated after value", `{"a":1`, "unexpected end of JSON", 6},
		{"unterminated array", `{"a":[1`, "unexpected end of JSON", 7},
		{"unterminated string", `{"a":"b`, "unterminated JSON string", 5},
		{"trailing comma in object", `{"a":1,}`, "expected JSON object key", 7},
		{"trailing comma in array", `{"a":[1,]}`, "unexpected character in JSON", 8},
		{"missing comma", `{"a":1 "b":2}`, "expected ',' or '}' in JSON object", 7},
		{"missing colon", `{"a" 1}`, "expected ':' in JSON object", 5},
		{"bare key", `{a:1}`, "expected JSON object key", 1},
		{"single quotes", `{'a':1}`, "expected JSON object key", 1},
		{"trailing data", `{"a":1}x`, "trailing data after JSON object", 7},
		{"two objects", `{}{}`, "trailing data after JSON object", 2},
		{"comment", `{/*c*/}`, "expected JSON object key", 1},
		{"duplicate key", `{"a":1,"a":2}`, "duplicate key in JSON object", 7},
		{"duplicate key in nested object", `{"o":{"k":1,"k":1}}`, "duplicate key in JSON object", 12},
		{"duplicate key through an escape", `{"a":1,"\u0061":2}`, "duplicate key in JSON object", 7},
		{"too deep", `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, "JSON nested too deeply", 5 + MaxDepth - 1},
		{"very deep", strings.Repeat(`{"a":`, 100000), "JSON nested too deeply", 5 * MaxDepth},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "invalid UTF-8 in JSON string", 6},
		{"invalid UTF-8 in key", "{\"\xc3\":1}", "invalid UTF-8 in JSON string", 2},
		{"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 in JSON string", 6},
		{"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 in JSON string", 6},
		{"lone surrogate then a bad escape", `{"a":"\ud800\u12"}`, `bad \u escape in JSON string`, 12},
		{"short unicode escape", `{"a":"\u12"}`, `bad \u escape in JSON string`, 6},
		{"bad hex in escape", `{"a":"\u12g4"}`, `bad \u escape in JSON string`, 6},
		{"unknown escape", `{"a":"\x41"}`, "bad escape in JSON string", 6},
		{"escape at end", `{"a":"\`, "bad escape in JSON string", 6},
		{"raw control character", "{\"a\":\"\n\"}", "control character in JSON string", 6},
		{"leading zero", `{"a":01}`, "expected ',' or '}' in JSON object", 6},
		{"bare minus", `{"a":-}`, "bad JSON number", 6},
		{"plus sign", `{"a":+1}`, "unexpected character in JSON", 5},
		{"leading dot", `{"a":.5}`, "unexpected character in JSON", 5},
		{"trailing dot", `{"a":1.}`, "bad JSON number", 7},
		{"empty exponent", `{"a":1e}`, "bad JSON number", 7},
		{"exponent sign only", `{"a":1e+}`, "bad JSON number", 8},
		{"hex number", `{"a":0x10}`, "expected ',' or '}' in JSON object", 6},
		{"lowercase nan", `{"a":nan}`, "bad JSON literal", 5},
		{"short Infinity", `{"a":Infinit}`, "bad JSON literal", 5},
		{"Inf", `{"a":-Inf}`, "bad JSON literal", 5},
		{"plus Infinity", `{"a":+Infinity}`, "unexpected character in JSON", 5},
		{"minus NaN", `{"a":-NaN}`, "bad JSON number", 6},
		{"NaN as a key", `{NaN:1}`, "expected JSON object key", 1},
		{"short literal", `{"a":tru}`, "bad JSON literal", 5},
		{"capitalised literal", `{"a":True}`, "unexpected character in JSON", 5},
		{"truncated null", `{"a":nul`, "bad JSON literal", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeObject([]byte(tt.in))
			assert.Nil(t, v)
			require.ErrorIs(t, err, ErrSyntax)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.reason, se.Reason)
			assert.Equal(t, tt.offset, se.Offset)
		})
	}
}

func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "12", "-1.5", "1e5", "1E+5", "2.5e-3", "123456789012345678901234567890"} {
		assert.True(t, ValidNumber(s), "ValidNumber(%q)", s)
	}
	for _, s := range []string{"", "-", "+1", "01", ".5", "1.", "1e", "1e+", "0x10", "NaN", "1 ", " 1", "1x"} {
		assert.False(t, ValidNumber(s), "ValidNumber(%q)", s)
	}
}

// stdDecode decodes data with encoding/json (UseNumber), requiring exactly
// one value.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// FuzzJSON checks the strict decoder against encoding/json: whatever both
// accept decodes to the same value, lone surrogates aside (encoding/json
// replaces each by U+FFFD, the decoder keeps it); what only the decoder
// accepts holds a Python token (NaN, Infinity, -Infinity) or nests deeper
// than encoding/json's limit, and nothing else. Our encoder writes every
// accepted value back to the same value, and writing that again gives the
// same bytes. It must never panic, and every error it returns matches
// ErrSyntax with an offset inside the input.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"\u00e9\ud834\udd1e"}`,
		`{"n":-1.5e+10,"t":true,"f":false}`, `{"a":1,"a":2}`, `{"s":"\ud800"}`,
		"{\"x\":\"\xff\"}", `{"d":[[[[[[[[]]]]]]]]}`, ` {"w" : [ 1 , 2 ] } `,
		`{"p":[NaN,Infinity,-Infinity],"q":"\udc00\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeObject(data)
		// Decoding a member into a map of one's own changes nothing.
		for _, key := range []string{"a", "p", "w"} {
			into, errInto := DecodeObjectInto(string(data), key, map[string]any{})
			if !reflect.DeepEqual(into, got) || !reflect.DeepEqual(errInto, err) {
				t.Fatalf("DecodeObjectInto(%q, %q) = %#v, %v; DecodeObject gives %#v, %v", data, key, into, errInto, got, err)
			}
		}
		if err != nil {
			var se *SyntaxError
			if !errors.Is(err, ErrSyntax) || !errors.As(err, &se) {
				t.Fatalf("DecodeObject(%q): error %v is not a SyntaxError matching ErrSyntax", data, err)
			}
			if se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("DecodeObject(%q): offset %d outside the input", data, se.Offset)
			}
			return
		}
		want, err := stdDecode(data)
		switch {
		case err == nil:
			if !reflect.DeepEqual(stdView(got), want) {
				t.Fatalf("DecodeObject(%q)\n got %#v\nwant %#v (encoding/json)", data, got, want)
			}
		case !pythonOnly(got, 0):
			t.Fatalf("DecodeObject accepted %q, encoding/json rejects it: %v", data, err)
		}
		enc, err := AppendObject(nil, got)
		if err != nil {
			t.Fatalf("AppendObject(%#v): %v", got, err)
		}
		back, err := DecodeObject(enc)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("re-encoded %s decodes to %#v, %v; want %#v", enc, back, err, got)
		}
		again, err := AppendObject(nil, back)
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding %s gives %s, %v", enc, again, err)
		}
	})
}

// stdMaxDepth is encoding/json's nesting limit.
const stdMaxDepth = 10000

// stdView is v as encoding/json decodes the same input: every lone
// surrogate (in generalized UTF-8) replaced by U+FFFD.
func stdView(v any) any {
	switch x := v.(type) {
	case string:
		return stdString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stdView(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[stdString(k)] = stdView(e)
		}
		return out
	}
	return v
}

func stdString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if _, ok := surrogateAt(s, i); ok {
			b.WriteRune(utf8.RuneError)
			i += 3
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// pythonOnly reports whether v, at nesting depth, holds what only the
// strict decoder reads: a non-finite number, or nesting deeper than
// encoding/json allows.
func pythonOnly(v any, depth int) bool {
	switch x := v.(type) {
	case json.Number:
		return NonFinite(string(x))
	case []any:
		if depth+1 > stdMaxDepth {
			return true
		}
		for _, e := range x {
			if pythonOnly(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		if depth+1 > stdMaxDepth {
			return true
		}
		for _, e := range x {
			if pythonOnly(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// A session Python's json wrote, with every value encoding/json refuses or
// changes, comes back byte for byte when Go changed nothing.
func TestPythonPayloadRoundTrips(t *testing.T) {
	in := `{"big":-123456789012345678901234567890,"f":1.10,"inf":Infinity,` +
		`"l":[NaN,-Infinity],"nan":NaN,"s":"\ud800 \udfff ok","\udc00":true}`
	v, err := DecodeObject([]byte(in))
	require.NoError(t, err)
	out, err := AppendObject(nil, v)
	require.NoError(t, err)
	assert.Equal(t, in, string(out))

	// Deeper than encoding/json's limit (10000), as deep as the input.
	deep := `{"deep":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	v, err = DecodeObject([]byte(deep))
	require.NoError(t, err)
	out, err = AppendObject(nil, v)
	require.NoError(t, err)
	require.True(t, deep == string(out), "20000 levels do not round-trip")
}

// benchPayload is a typical session payload: a user, a few values, one
// escape and one nested object.
var benchPayload = []byte(`{"_user_id":"user-1234","_created":1700000000,"theme":"dark","cart":[17,42],"lang":"en-GB","name":"Zo\u00eb","nested":{"a":[true,false,null],"b":-1.5e3}}`)

func BenchmarkDecodeObject(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeObject(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidNumberAllocatesNothing(t *testing.T) {
	var ok bool
	assert.Zero(t, testing.AllocsPerRun(100, func() { ok = ValidNumber("-12.5e+3") }))
	assert.True(t, ok)
}

func TestDecodeObjectStringSharesItsInput(t *testing.T) {
	src := `{"k":"value","n":12}`
	m, err := DecodeObjectString(src)
	require.NoError(t, err)
	v := m["k"].(string)
	start := uintptr(unsafe.Pointer(unsafe.StringData(src)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	assert.True(t, at >= start && at < start+uintptr(len(src)), "the string is a slice of the input")
}

func TestDecodeObjectCopiesItsInput(t *testing.T) {
	data := []byte(`{"k":"value"}`)
	m, err := DecodeObject(data)
	require.NoError(t, err)
	copy(data[6:], "XXXXX")
	assert.Equal(t, "value", m["k"], "changing the input afterwards changes nothing")
}

func TestDecodeObjectInto(t *testing.T) {
	into := map[string]any{}
	m, err := DecodeObjectInto(`{"a":1,"meta":{"c":2,"meta":{"x":3}}}`, "meta", into)
	require.NoError(t, err)
	into["probe"] = true
	assert.Equal(t, true, m["meta"].(map[string]any)["probe"], "the member was decoded into the given map")
	assert.Equal(t, map[string]any{"x": json.Number("3")}, into["meta"], "a nested member of the same name gets a map of its own")

	// A member that is not an object, or a missing one, leaves into alone.
	for _, src := range []string{`{"meta":[1]}`, `{"meta":"s"}`, `{"other":{}}`} {
		into := map[string]any{}
		_, err := DecodeObjectInto(src, "meta", into)
		require.NoError(t, err, src)
		assert.Empty(t, into, src)
	}

	// The same errors as DecodeObjectString, a repeated member included.
	for _, src := range []string{`{"meta":{},"meta":{}}`, `{"meta":{"c":1,"c":2}}`, `{"meta":{"c":}}`} {
		_, want := DecodeObjectString(src)
		require.Error(t, want, src)
		_, err := DecodeObjectInto(src, "meta", map[string]any{})
		assert.Equal(t, want, err, src)
	}
}
