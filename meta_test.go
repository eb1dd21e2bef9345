package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInvalidUTF8KeyIsAnEncodingError(t *testing.T) {
	var errs []error
	m, err := New(SessionConfig{SecretKey: TestKey,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			errs = append(errs, err)
			w.WriteHeader(http.StatusInternalServerError)
		}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("user", "alice")
		s.Set("\xff", 1)
		s.Set("\xfe", 2)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if len(errs) != 1 || rec.Code != http.StatusInternalServerError {
		t.Fatalf("error handler got %v, status %d; want one encoding error and 500", errs, rec.Code)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("a cookie was sent for an unencodable session: %v", rec.Result().Cookies())
	}
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
		{"NaN", `{"a":NaN}`},
		{"leading zero", `{"a":01}`},
	}
	for _, c := range cases {
		v := e.signPayload(c.payload)
		if _, err := e.M.Decode(context.Background(), v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode(signed %q) = %v, want ErrMalformed", c.name, c.payload, err)
		}
		if seen := e.Load("session=" + v); len(seen.Values) != 0 || seen.UserID != "" {
			t.Errorf("%s: middleware accepted %q: values %v, user %q", c.name, c.payload, seen.Values, seen.UserID)
		}
	}
	// One level less than the limit is fine: the limit is what rejects.
	ok := strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	if _, err := e.M.Decode(context.Background(), e.signPayload(ok)); err != nil {
		t.Errorf("Decode(depth %d) = %v, want success", maxDepth, err)
	}
}

// Keys are case-sensitive and never merged: {"uid":1,"UID":2} is two keys,
// and a look-alike of the reserved key is an ordinary key that cannot set
// the user.
func TestSecurityPayloadCaseVariantKeys(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	v := e.signPayload(`{"uid":1,"UID":2,"Uid":3}`)
	got, err := e.M.Decode(context.Background(), v)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := map[string]string{"uid": "1", "UID": "2", "Uid": "3"}
	if len(got) != len(want) {
		t.Fatalf("Decode = %v, want 3 distinct keys", got)
	}
	for k, w := range want {
		if n, ok := got[k].(json.Number); !ok || n.String() != w {
			t.Errorf("key %q = %#v, want %s", k, got[k], w)
		}
	}

	for _, name := range []string{strings.ToUpper(ReservedKey), "_CtxSession", " " + ReservedKey, ReservedKey + " "} {
		v := e.signPayload(`{"` + name + `":{"uid":"mallory","c":0}}`)
		seen := e.Load("session=" + v)
		if seen.UserID != "" {
			t.Errorf("%q set the user id to %q", name, seen.UserID)
		}
		if _, ok := seen.Values[name]; !ok {
			t.Errorf("%q is not kept as an ordinary key: %v", name, seen.Values)
		}
	}
	// Inside the reserved object too: "UID" is not "uid".
	v = e.signPayload(`{"` + ReservedKey + `":{"UID":"mallory","uid":"alice"}}`)
	if seen := e.Load("session=" + v); seen.UserID != "alice" {
		t.Errorf("user id = %q, want alice", seen.UserID)
	}
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
		if got, ok := seen.Values[k].(json.Number); !ok || got.String() != n {
			t.Errorf("first read of %s = %#v, want %s", k, seen.Values[k], n)
		}
	}
	v2 := visit.Cookie
	if v2 == "" {
		t.Fatal("no cookie after a change")
	}
	got, err := e.M.Decode(context.Background(), v2)
	if err != nil {
		t.Fatalf("Decode(re-encoded): %v", err)
	}
	for i, n := range nums {
		k := "n" + string(rune('a'+i))
		if g, ok := got[k].(json.Number); !ok || g.String() != n {
			t.Errorf("after re-encoding %s = %#v, want %s", k, got[k], n)
		}
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
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: encodePayload = %s, %v; want %s", tt.name, got, err, tt.want)
			continue
		}
		values, md, err := decodePayload(defaultScheme{}, got)
		if err != nil {
			t.Errorf("%s: decodePayload: %v", tt.name, err)
			continue
		}
		if len(values) != len(tt.values) || md.UserID != tt.md.UserID || !md.Created.Equal(tt.md.Created) ||
			md.Fresh != tt.md.Fresh || !slices.Equal(md.Flashes, tt.md.Flashes) {
			t.Errorf("%s: decoded %v %+v, want %v %+v", tt.name, values, md, tt.values, tt.md)
		}
	}
	// A payload without metadata (written by another system) is fine.
	values, md, err := decodePayload(defaultScheme{}, []byte(`{"k":[1]}`))
	if err != nil || !reflect.DeepEqual(values, map[string]any{"k": []any{json.Number("1")}}) || md.UserID != "" || !md.Created.IsZero() {
		t.Errorf("payload without metadata: %v %+v %v", values, md, err)
	}
	for _, bad := range []string{
		`{"_ctxsession":1}`, `{"_ctxsession":{"uid":1}}`, `{"_ctxsession":{"c":-1}}`, `{"_ctxsession":{"c":1.5}}`,
		`{"_ctxsession":{"c":"1"}}`, `{"_ctxsession":{"fresh":"yes"}}`, `{"_ctxsession":{"f":{}}}`,
		`{"_ctxsession":{"f":[["a",1]]}}`, `{"_ctxsession":{"f":[["a","b","c"]]}}`, `{"_ctxsession":{"f":["ab"]}}`,
	} {
		if _, _, err := decodePayload(defaultScheme{}, []byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodePayload(%s): err %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := encodePayload(nil, defaultScheme{}, map[string]any{"c": make(chan int)}, meta{}); err == nil {
		t.Error("encodePayload of a channel: nil error")
	}
}
