package strictjson

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendValue(t *testing.T) {
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
		// What Python's json writes, and the decoder reads.
		{math.NaN(), `NaN`},
		{math.Inf(1), `Infinity`},
		{math.Inf(-1), `-Infinity`},
		{json.Number("-Infinity"), `-Infinity`},
		{"\xed\xa0\x80|\xed\xbf\xbf", `"\ud800|\udfff"`},
		{map[string]any{"\xed\xb0\x80": []string{"\xed\xb0\x80\xed\xa0\x80"}}, `{"\udc00":["\udc00\ud800"]}`},
	}
	for _, tt := range tests {
		got, err := AppendValue(nil, tt.in)
		require.NoError(t, err, "AppendValue(%#v)", tt.in)
		assert.Equal(t, tt.want, string(got), "AppendValue(%#v)", tt.in)
	}
}

func TestAppendValueAppends(t *testing.T) {
	got, err := AppendValue([]byte("x="), map[string]any{"k": "v"})
	require.NoError(t, err)
	assert.Equal(t, `x={"k":"v"}`, string(got))
}

func TestAppendValueErrors(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{json.Number("1x"), `strictjson: invalid json.Number "1x"`},
		{json.Number("nan"), `strictjson: invalid json.Number "nan"`},
		{json.Number("+Inf"), `strictjson: invalid json.Number "+Inf"`},
		{make(chan int), "strictjson: unsupported type: chan int"},
		{[]any{func() {}}, "strictjson: unsupported type: func()"},
		// The halves of a pair, each in generalized UTF-8, would be read
		// back as the one character.
		{map[string]any{"k": "\xed\xa0\x80\xed\xb0\x80"}, `strictjson: key "k": string is not valid UTF-8`},
		{map[string]any{"\xed\xa0\x80\xed\xb0\x80": 1}, `strictjson: key "\xed\xa0\x80\xed\xb0\x80": not valid UTF-8`},
		{map[string]any{"cart": make(chan int)}, `strictjson: key "cart": unsupported type: chan int`},
		{map[string]any{"a": map[string]any{"b": []any{1, json.Number("--")}}}, `strictjson: key "a"."b": invalid json.Number "--"`},
		{map[string]any{"ok": 1, "bad\xff": 2}, `strictjson: key "bad\xff": not valid UTF-8`},
		{map[string]any{"a": map[string]any{"\xc3": 1}}, `strictjson: key "a"."\xc3": not valid UTF-8`},
		// What the decoder would refuse is never written.
		{map[string]any{"s": "bad\xffutf8"}, `strictjson: key "s": string is not valid UTF-8`},
		{[]string{"ok", "\xfe"}, `strictjson: string is not valid UTF-8`},
		{map[string]any{"m": map[string]int{"\xff": 1, "\xfe": 2}}, `strictjson: key "m": encoding/json wrote what the decoder refuses: strictjson: duplicate key in JSON object at byte offset 12`},
		{map[string]any{"t": struct{ S string }{"\xff"}}, `strictjson: key "t": a string or key is not valid UTF-8`},
		{deep(MaxDepth + 1), `strictjson: key "k": nesting deeper than 65536 levels (a value that contains itself?)`},
		{map[string]any{"k": nested{N: deepStruct(MaxDepth + 1)}}, `strictjson: key "k": encoding/json wrote what the decoder refuses: strictjson: JSON nested too deeply at byte offset ` + strconv.Itoa(5*(MaxDepth-1))},
	}
	for i, tt := range tests {
		_, err := AppendValue(nil, tt.in)
		assert.EqualError(t, err, tt.want, "case %d", i) // a cyclic value cannot be printed
	}
}

// deep returns {"k":[[...[]...]]}, n levels of nesting in all (the object
// and n-1 arrays).
func deep(n int) map[string]any {
	var v any = []any{}
	for range n - 2 {
		v = []any{v}
	}
	return map[string]any{"k": v}
}

// nested is a struct encoding/json writes, n levels deep.
type nested struct {
	N *nested `json:"n,omitempty"`
}

func deepStruct(n int) *nested {
	var v *nested
	for range n - 1 {
		v = &nested{N: v}
	}
	return v
}

// cyclic returns a map that contains itself.
func cyclic() map[string]any {
	m := map[string]any{}
	m["self"] = m
	return m
}

// A value that contains itself is an error, not a stack overflow.
func TestAppendValueCycle(t *testing.T) {
	_, err := AppendValue(nil, cyclic())
	require.EqualError(t, err, `strictjson: key "self"."self"."self"."self"."self"."self"."self"."self"....: `+
		`nesting deeper than 65536 levels (a value that contains itself?)`)
}

// The deepest value the encoder writes, the decoder reads.
func TestAppendValueDepthLimit(t *testing.T) {
	b, err := AppendValue(nil, deep(MaxDepth))
	require.NoError(t, err)
	_, err = DecodeObject(b)
	require.NoError(t, err)
	_, err = AppendValue(nil, deep(MaxDepth+1))
	require.Error(t, err, "one level more is refused")
}

// An error from encoding/json stays reachable through errors.As.
func TestAppendValueUnwraps(t *testing.T) {
	_, err := AppendObject(nil, map[string]any{"c": make(chan int)})
	var ute *json.UnsupportedTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "chan int", ute.Type.String())
}

func TestAppendObjectSorted(t *testing.T) {
	m := map[string]any{"b": 2, "a": 1, "é": 4, "Z": 3, "": 0}
	first, err := AppendObject(nil, m)
	require.NoError(t, err)
	assert.Equal(t, `{"":0,"Z":3,"a":1,"b":2,"é":4}`, string(first))
	for range 20 {
		again, err := AppendObject(nil, m)
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{"\x00\x1f\b\f", `"\u0000\u001f\u0008\u000c"`},
		{"<script>&", `"<script>&"`},
		{"\u2028x\u2029", `"\u2028x\u2029"`},
		{"a\xc3", `"a\ufffd"`},
		{"𝄞", `"𝄞"`},
		{"\xed\xa0\x80x\xed\xbf\xbf", `"\ud800x\udfff"`},
		{"\xed\xa0\x80\xed\xb0\x80", `"\ufffd\ufffd\ufffd\udc00"`}, // not lone: never written as a pair
	}
	for _, tt := range tests {
		got := AppendString([]byte("["), tt.in)
		assert.Equal(t, "["+tt.want, string(got), "AppendString(%q)", tt.in)
	}
}

func BenchmarkAppendObject(b *testing.B) {
	m, err := DecodeObject(benchPayload)
	require.NoError(b, err)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = AppendObject(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendObjectAllocations(t *testing.T) {
	small := map[string]any{"csrf": "abc", "n": json.Number("3"), "user_id": json.Number("42")}
	buf := make([]byte, 0, 256)
	assert.Zero(t, testing.AllocsPerRun(100, func() { AppendObject(buf[:0], small) }), "a small object sorts its keys on the stack")
	large := map[string]any{}
	for i := range 17 {
		large[strconv.Itoa(i)] = true
	}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { AppendObject(buf[:0], large) }), "one slice for the keys of a large object")
}
