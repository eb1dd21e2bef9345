package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseObjectAccepts(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`
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
		{deep, nil}, // maxDepth levels: accepted
	}
	for _, tt := range tests {
		got, err := parseObject([]byte(tt.in))
		if err != nil {
			t.Errorf("parseObject(%s): %v", tt.in, err)
			continue
		}
		if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseObject(%s)\n got %#v\nwant %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseObjectRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"space only", `  `},
		{"array", `[]`},
		{"string", `"s"`},
		{"number", `1`},
		{"null", `null`},
		{"byte order mark", "\ufeff{}"},
		{"unterminated object", `{`},
		{"unterminated after key", `{"a"`},
		{"unterminated after colon", `{"a":`},
		{"unterminated after value", `{"a":1`},
		{"unterminated array", `{"a":[1`},
		{"unterminated string", `{"a":"b`},
		{"trailing comma in object", `{"a":1,}`},
		{"trailing comma in array", `{"a":[1,]}`},
		{"missing comma", `{"a":1 "b":2}`},
		{"missing colon", `{"a" 1}`},
		{"bare key", `{a:1}`},
		{"single quotes", `{'a':1}`},
		{"trailing data", `{"a":1}x`},
		{"two objects", `{}{}`},
		{"comment", `{/*c*/}`},
		{"duplicate key", `{"a":1,"a":2}`},
		{"duplicate key in nested object", `{"o":{"k":1,"k":1}}`},
		{"duplicate key through an escape", `{"a":1,"\u0061":2}`},
		{"too deep", `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`},
		{"very deep", strings.Repeat(`{"a":`, 100000)},
		{"invalid UTF-8", "{\"a\":\"\xff\"}"},
		{"invalid UTF-8 in key", "{\"\xc3\":1}"},
		{"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}"},
		{"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}"},
		{"lone high surrogate", `{"a":"\ud800"}`},
		{"lone high surrogate before text", `{"a":"\ud800xxxxxx"}`},
		{"lone low surrogate", `{"a":"\udc00"}`},
		{"high surrogate then non-surrogate", `{"a":"\ud800\u0041"}`},
		{"short unicode escape", `{"a":"\u12"}`},
		{"bad hex in escape", `{"a":"\u12g4"}`},
		{"unknown escape", `{"a":"\x41"}`},
		{"escape at end", `{"a":"\`},
		{"raw control character", "{\"a\":\"\n\"}"},
		{"leading zero", `{"a":01}`},
		{"bare minus", `{"a":-}`},
		{"plus sign", `{"a":+1}`},
		{"leading dot", `{"a":.5}`},
		{"trailing dot", `{"a":1.}`},
		{"empty exponent", `{"a":1e}`},
		{"exponent sign only", `{"a":1e+}`},
		{"hex number", `{"a":0x10}`},
		{"NaN", `{"a":NaN}`},
		{"Infinity", `{"a":Infinity}`},
		{"short literal", `{"a":tru}`},
		{"capitalised literal", `{"a":True}`},
		{"truncated null", `{"a":nul`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseObject([]byte(tt.in))
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalidCookie) {
				t.Errorf("parseObject(%q) = %v, %v; want an error matching ErrMalformed", tt.in, v, err)
			}
		})
	}
}

func TestAppendJSON(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	tests := []struct {
		in   any
		want string
	}{
		{nil, `null`},
		{"a\"\\\n\r\t\x01<>&", `"a\"\\\n\r\t\u0001<>&"`},
		{"\u2028\u2029é", `"\u2028\u2029é"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
		{true, `true`},
		{json.Number("1.50"), `1.50`},
		{json.Number(""), `0`},
		{int(-3), `-3`},
		{int64(math.MaxInt64), `9223372036854775807`},
		{int32(7), `7`},
		{uint(8), `8`},
		{uint64(math.MaxUint64), `18446744073709551615`},
		{float64(3), `3`},
		{1.5, `1.5`},
		{1e20, `100000000000000000000`},
		{map[string]any{"b": 1, "a": []any{"x", 2.5}, "c": map[string]any{}}, `{"a":["x",2.5],"b":1,"c":{}}`},
		{[]string{"p", "q"}, `["p","q"]`},
		{[]any{}, `[]`},
		{point{X: 4}, `{"x":4}`},
		{time.Unix(0, 0).UTC(), `"1970-01-01T00:00:00Z"`},
	}
	for _, tt := range tests {
		got, err := appendJSON(nil, tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendJSON(%#v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []any{json.Number("1x"), math.NaN(), math.Inf(1), make(chan int), []any{func() {}}, map[string]any{"k": math.Inf(-1)}} {
		if got, err := appendJSON(nil, bad); err == nil {
			t.Errorf("appendJSON(%T) = %s, want an error", bad, got)
		}
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

// FuzzJSON checks the strict decoder against encoding/json: whatever it
// accepts, encoding/json accepts and decodes to the same value, and our
// encoder writes it back to the same value. It must never panic.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"\u00e9\ud834\udd1e"}`,
		`{"n":-1.5e+10,"t":true,"f":false}`, `{"a":1,"a":2}`, `{"s":"\ud800"}`,
		"{\"x\":\"\xff\"}", `{"d":[[[[[[[[]]]]]]]]}`, ` {"w" : [ 1 , 2 ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseObject(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parseObject(%q): error %v does not match ErrMalformed", data, err)
			}
			return
		}
		want, err := stdDecode(data)
		if err != nil {
			t.Fatalf("parseObject accepted %q, encoding/json rejects it: %v", data, err)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Fatalf("parseObject(%q)\n got %#v\nwant %#v (encoding/json)", data, got, want)
		}
		enc, err := appendObject(nil, got)
		if err != nil {
			t.Fatalf("appendObject(%#v): %v", got, err)
		}
		back, err := parseObject(enc)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("re-encoded %s decodes to %#v, %v; want %#v", enc, back, err, got)
		}
	})
}
