package sessions

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvalidUTF8KeyIsAnEncodingError(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		s.Set("user", "alice")
		s.Set("\xff", 1)
		s.Set("\xfe", 2)
	}, "")
	require.Len(t, e.Errors(), 1, "one encoding error")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Empty(t, rec.Result().Cookies(), "a cookie was sent for an unencodable session")
}

// The payload tests sign crafted payloads with the real key: the MAC is
// valid, so only the strict JSON decoder and the payload limits stand
// between them and the handler.

func TestSecurityPayloadAfterValidMAC(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	deepArr := `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + "}" // 33 levels
	cases := []struct {
		name    string
		payload string
	}{
		{"not JSON", `hello`},
		{"empty", ``},
		{"array", `[1,2]`},
		{"string", `"s"`},
		{"number", `1`},
		{"null", `null`},
		{"true", `true`},
		{"two objects", `{}{}`},
		{"trailing garbage", `{"a":1}x`},
		{"truncated", `{"a":1`},
		{"deep objects", deep},
		{"deep arrays", deepArr},
		{"duplicate key", `{"a":1,"a":2}`},
		{"duplicate key, same value", `{"a":1,"a":1}`},
		{"duplicate uid", `{"` + ReservedKey + `":{"c":0,"uid":"alice","uid":"mallory"}}`},
		{"duplicate reserved key", `{"` + ReservedKey + `":{"uid":"alice"},"` + ReservedKey + `":{"uid":"mallory"}}`},
		{"duplicate uid, top level", `{"uid":1,"uid":2}`},
		{"duplicate via escape", `{"uid":1,"\u0075id":2}`},
		{"nested duplicate", `{"a":{"b":1,"b":2}}`},
		{"invalid UTF-8", "{\"a\":\"\xff\"}"},
		{"reserved not an object", `{"` + ReservedKey + `":"alice"}`},
		{"uid not a string", `{"` + ReservedKey + `":{"uid":1}}`},
		{"negative created", `{"` + ReservedKey + `":{"c":-5}}`},
		{"comment", `{"a":1/*x*/}`},
		{"single quotes", `{'a':1}`},
		{"leading zero", `{"a":01}`},
	}
	for _, c := range cases {
		v := e.signPayload(c.payload)
		_, err := e.M.Decode(context.Background(), v)
		assert.ErrorIs(t, err, ErrMalformed, "%s: Decode(signed %q)", c.name, c.payload)
		seen := e.Load("session=" + v)
		assert.Empty(t, seen.Values, "%s: the middleware accepted %q", c.name, c.payload)
		assert.Empty(t, seen.UserID, "%s: the middleware accepted %q", c.name, c.payload)
	}
	// Deep nesting, as Python writes it, is bounded by the inflate cap,
	// not by a depth far below Python's.
	ok := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	_, err := e.M.Decode(context.Background(), e.signPayload(ok))
	assert.NoError(t, err, "Decode(depth 10000)")
}

// Keys are case-sensitive and never merged: {"uid":1,"UID":2} is two keys,
// and a look-alike of the reserved key is an ordinary key that cannot set
// the user.
func TestSecurityPayloadCaseVariantKeys(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.signPayload(`{"uid":1,"UID":2,"Uid":3}`)
	got, err := e.M.Decode(context.Background(), v)
	require.NoError(t, err, "Decode")
	assert.Equal(t, map[string]any{"uid": json.Number("1"), "UID": json.Number("2"), "Uid": json.Number("3")}, got)

	for _, name := range []string{strings.ToUpper(ReservedKey), "_CtxSession", " " + ReservedKey, ReservedKey + " "} {
		v := e.signPayload(`{"` + name + `":{"uid":"mallory","c":0}}`)
		seen := e.Load("session=" + v)
		assert.Empty(t, seen.UserID, "%q set the user id", name)
		assert.Contains(t, seen.Values, name, "%q is kept as an ordinary key", name)
	}
	// Inside the reserved object too: "UID" is not "uid".
	v = e.signPayload(`{"` + ReservedKey + `":{"UID":"mallory","uid":"alice"}}`)
	assert.Equal(t, "alice", e.Load("session="+v).UserID)
}

// Integers beyond float64 precision stay exact through decode and re-encode.
func TestSecurityPayloadLargeIntegersExact(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	nums := []string{
		"9223372036854775809",     // 2^63+1
		"-9223372036854775809",    // -2^63-1
		"18446744073709551617",    // 2^64+1
		"12345678901234567890123", // beyond uint64
		"9007199254740993",        // 2^53+1, the first integer float64 loses
	}
	var b strings.Builder
	b.WriteString("{")
	for i, n := range nums {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"n` + string(rune('a'+i)) + `":` + n)
	}
	b.WriteString("}")
	v := e.signPayload(b.String())

	// A request that reads them and changes another key: the cookie is
	// re-encoded from the decoded values.
	visit := e.VisitLines(func(_ *http.Request, s *Session) {
		s.Set("touched", true)
	}, "session="+v)
	seen := visit.Seen
	for i, n := range nums {
		k := "n" + string(rune('a'+i))
		assert.Equal(t, json.Number(n), seen.Values[k], "first read of %s", k)
	}
	v2 := visit.Cookie
	require.NotEmpty(t, v2, "no cookie after a change")
	got, err := e.M.Decode(context.Background(), v2)
	require.NoError(t, err, "Decode(re-encoded)")
	for i, n := range nums {
		k := "n" + string(rune('a'+i))
		assert.Equal(t, json.Number(n), got[k], "%s after re-encoding", k)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	created := time.Unix(1700000000, 0)
	tests := []struct {
		name   string
		values map[string]any
		md     meta
		want   string
	}{
		{"empty", map[string]any{}, meta{}, `{"_ctxsession":{"c":0}}`},
		{"values", map[string]any{"b": 1, "a": "x"}, meta{Created: created}, `{"a":"x","b":1,"_ctxsession":{"c":1700000000}}`},
		{"all metadata", map[string]any{}, meta{UserID: "u\"1", Created: created, Fresh: true, Flashes: []Flash{{"info", "hé"}, {"", ""}}},
			`{"_ctxsession":{"c":1700000000,"f":[["info","hé"],["",""]],"fresh":true,"uid":"u\"1"}}`},
	}
	for _, tt := range tests {
		got, err := encodePayload(nil, defaultScheme{}, tt.values, tt.md)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, string(got), tt.name)
		values, md, err := decodePayload(defaultScheme{}, got)
		require.NoError(t, err, tt.name)
		assert.Len(t, values, len(tt.values), tt.name)
		assert.Equal(t, tt.md.UserID, md.UserID, tt.name)
		assert.True(t, md.Created.Equal(tt.md.Created), "%s: Created %v, want %v", tt.name, md.Created, tt.md.Created)
		assert.Equal(t, tt.md.Fresh, md.Fresh, tt.name)
		assert.Equal(t, tt.md.Flashes, md.Flashes, tt.name)
	}
	// A payload without metadata (written by another system) is fine.
	values, md, err := decodePayload(defaultScheme{}, []byte(`{"k":[1]}`))
	require.NoError(t, err, "a payload without metadata")
	assert.Equal(t, map[string]any{"k": []any{json.Number("1")}}, values)
	assert.Equal(t, meta{}, md, "a payload without metadata")
	for _, bad := range []string{
		`{"_ctxsession":1}`, `{"_ctxsession":{"uid":1}}`, `{"_ctxsession":{"c":-1}}`, `{"_ctxsession":{"c":1.5}}`,
		`{"_ctxsession":{"c":"1"}}`, `{"_ctxsession":{"fresh":"yes"}}`, `{"_ctxsession":{"f":{}}}`,
		`{"_ctxsession":{"f":[["a",1]]}}`, `{"_ctxsession":{"f":[["a","b","c"]]}}`, `{"_ctxsession":{"f":["ab"]}}`,
	} {
		_, _, err := decodePayload(defaultScheme{}, []byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "decodePayload(%s)", bad)
	}
	_, err = encodePayload(nil, defaultScheme{}, map[string]any{"c": make(chan int)}, meta{})
	assert.Error(t, err, "encodePayload of a channel")
}

// keepingScheme is the default scheme, except that split leaves
// ReservedKey's object among the values.
type keepingScheme struct{ defaultScheme }

func (keepingScheme) split(values map[string]any) (meta, error) {
	obj := values[ReservedKey]
	m, err := defaultScheme{}.split(values)
	values[ReservedKey] = obj
	return m, err
}

// decodePayload reuses the map it decodes ReservedKey's object into, once
// split has dropped it; never one a session still holds.
func TestDecodePayloadReusesOnlyDroppedMetadata(t *testing.T) {
	first, _, err := decodePayload(keepingScheme{}, []byte(`{"_ctxsession":{"c":1700000000}}`))
	require.NoError(t, err)
	for range 20 {
		_, md, err := decodePayload(defaultScheme{}, []byte(`{"_ctxsession":{"c":1800000000,"uid":"bob"}}`))
		require.NoError(t, err)
		assert.Equal(t, "bob", md.UserID)
	}
	assert.Equal(t, map[string]any{"c": json.Number("1700000000")}, first[ReservedKey], "a kept object was reused")
	reads := Allocs(func() { decodePayload(defaultScheme{}, []byte(`{"_ctxsession":{"c":1800000000}}`)) })
	keeps := Allocs(func() { decodePayload(keepingScheme{}, []byte(`{"_ctxsession":{"c":1800000000}}`)) })
	assert.Less(t, reads, keeps, "a dropped object's map is reused")
}
