package sessions

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// The payload tests sign crafted payloads with the real key: the MAC is
// valid, so only the strict JSON decoder and the payload limits stand
// between them and the handler.

func TestSecurityPayloadAfterValidMAC(t *testing.T) {
	m := secNew(t, SessionConfig{})
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
		v := secSignPayload(t, m, c.payload)
		if _, err := m.Decode(context.Background(), v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode(signed %q) = %v, want ErrMalformed", c.name, c.payload, err)
		}
		if seen := secLoad(t, m, "session="+v); len(seen.Values) != 0 || seen.UserID != "" {
			t.Errorf("%s: middleware accepted %q: values %v, user %q", c.name, c.payload, seen.Values, seen.UserID)
		}
	}
	// One level less than the limit is fine: the limit is what rejects.
	ok := strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	if _, err := m.Decode(context.Background(), secSignPayload(t, m, ok)); err != nil {
		t.Errorf("Decode(depth %d) = %v, want success", maxDepth, err)
	}
}

// Keys are case-sensitive and never merged: {"uid":1,"UID":2} is two keys,
// and a look-alike of the reserved key is an ordinary key that cannot set
// the user.
func TestSecurityPayloadCaseVariantKeys(t *testing.T) {
	m := secNew(t, SessionConfig{})
	v := secSignPayload(t, m, `{"uid":1,"UID":2,"Uid":3}`)
	got, err := m.Decode(context.Background(), v)
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
		v := secSignPayload(t, m, `{"`+name+`":{"uid":"mallory","c":0}}`)
		seen := secLoad(t, m, "session="+v)
		if seen.UserID != "" {
			t.Errorf("%q set the user id to %q", name, seen.UserID)
		}
		if _, ok := seen.Values[name]; !ok {
			t.Errorf("%q is not kept as an ordinary key: %v", name, seen.Values)
		}
	}
	// Inside the reserved object too: "UID" is not "uid".
	v = secSignPayload(t, m, `{"`+ReservedKey+`":{"UID":"mallory","uid":"alice"}}`)
	if seen := secLoad(t, m, "session="+v); seen.UserID != "alice" {
		t.Errorf("user id = %q, want alice", seen.UserID)
	}
}

// Integers beyond float64 precision stay exact through decode and re-encode.
func TestSecurityPayloadLargeIntegersExact(t *testing.T) {
	m := secNew(t, SessionConfig{})
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
	v := secSignPayload(t, m, b.String())

	// A request that reads them and changes another key: the cookie is
	// re-encoded from the decoded values.
	var seen secSeen
	w := secServe(m, secProbe(&seen, func(_ http.ResponseWriter, _ *http.Request, s *Session) {
		s.Set("touched", true)
	}), "session="+v)
	for i, n := range nums {
		k := "n" + string(rune('a'+i))
		if got, ok := seen.Values[k].(json.Number); !ok || got.String() != n {
			t.Errorf("first read of %s = %#v, want %s", k, seen.Values[k], n)
		}
	}
	v2, ok := secSetCookie(t, w, "session")
	if !ok {
		t.Fatal("no cookie after a change")
	}
	got, err := m.Decode(context.Background(), v2)
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

// A small cookie whose zlib payload inflates past the cap is rejected
// without inflating it all.
func TestSecurityPayloadCompressionBomb(t *testing.T) {
	m := secNew(t, SessionConfig{})
	s := secCodecSigner(t, m)
	const inflated = 2 << 20 // 2 MiB of JSON from a cookie under 4 KiB
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write([]byte(`{"a":"`))
	zw.Write(bytes.Repeat([]byte("a"), inflated))
	zw.Write([]byte(`"}`))
	zw.Close()
	body := "." + b64.EncodeToString(z.Bytes())
	ts := b64.EncodeToString(intToBytes(uint64(secT0.Unix())))
	bomb := s.signRaw([]byte(body + "." + ts))
	if len("session=")+len(bomb) > MaxCookieSize {
		t.Fatalf("bomb is %d bytes, does not fit in a cookie", len(bomb))
	}
	_, err := m.Decode(context.Background(), bomb)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("Decode(bomb) = %v, want ErrMalformed", err)
	}
	if n := secBytesPerRun(func() { m.Decode(context.Background(), bomb) }); n > 1<<20 {
		t.Errorf("Decode(bomb of %d bytes inflating to %d) allocates %d bytes, want under 1 MiB", len(bomb), inflated, n)
	}
	if seen := secLoad(t, m, "session="+bomb); len(seen.Values) != 0 {
		t.Errorf("middleware accepted the bomb")
	}

	// Just under the cap is accepted: the cap, not zlib, rejects the bomb.
	z.Reset()
	zw.Reset(&z)
	zw.Write([]byte(`{"a":"`))
	zw.Write(bytes.Repeat([]byte("a"), maxPayload-8))
	zw.Write([]byte(`"}`))
	zw.Close()
	okValue := s.signRaw([]byte("." + b64.EncodeToString(z.Bytes()) + "." + ts))
	if _, err := m.Decode(context.Background(), okValue); err != nil {
		t.Errorf("Decode(payload of %d bytes) = %v, want success", maxPayload-8+8, err)
	}
}
