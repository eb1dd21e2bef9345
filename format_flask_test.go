package sessions

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlaskTags(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		want          map[string]any // nil: want ErrMalformed
	}{
		{"tuple", `{"x":{" t":[1,"a"]}}`, map[string]any{"x": []any{json1, "a"}}},
		{"bytes", `{"x":{" b":"AP8="}}`, map[string]any{"x": []byte{0, 0xff}}},
		{"markup", `{"x":{" m":"<b>"}}`, map[string]any{"x": "<b>"}},
		{"uuid hex", `{"x":{" u":"12345678123456781234567812345678"}}`, map[string]any{"x": "12345678-1234-5678-1234-567812345678"}},
		{"uuid braces", `{"x":{" u":"{12345678-1234-5678-1234-56781234567A}"}}`, map[string]any{"x": "12345678-1234-5678-1234-56781234567a"}},
		{"uuid urn", `{"x":{" u":"urn:uuid:12345678-1234-5678-1234-567812345678"}}`, map[string]any{"x": "12345678-1234-5678-1234-567812345678"}},
		{"http date", `{"x":{" d":"Mon, 06 May 2024 07:08:09 GMT"}}`, map[string]any{"x": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}},
		{"numeric zone", `{"x":{" d":"Mon, 06 May 2024 09:08:09 +0200"}}`, map[string]any{"x": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}},
		{"escaped dict", `{"x":{" di":{" t__":{" t":[1]}}}}`, map[string]any{"x": map[string]any{" t": []any{json1}}}},
		{"nested", `{"x":[{" t":[{" b":"eA=="}]},{"y":{" m":"m"}}]}`, map[string]any{"x": []any{[]any{[]byte("x")}, map[string]any{"y": "m"}}}},
		{"unknown tag kept", `{"x":{" od":[1]}}`, map[string]any{"x": map[string]any{" od": []any{json1}}}},
		{"two keys are no tag", `{"x":{" t":[1],"y":2}}`, map[string]any{"x": map[string]any{" t": []any{json1}, "y": json2}}},
		{"whole session escaped", `{" di":{" t__":1}}`, map[string]any{" t": json1}},
		{"whole session a tuple", `{" t":[1]}`, nil},
		{"tuple of a string", `{"x":{" t":"abc"}}`, nil},
		{"bad base64", `{"x":{" b":"!!"}}`, nil},
		{"bytes not a string", `{"x":{" b":1}}`, nil},
		{"bad uuid", `{"x":{" u":"1234"}}`, nil},
		{"bad date", `{"x":{" d":"yesterday"}}`, nil},
		{"escape without __", `{"x":{" di":{"a":1}}}`, nil},
		{"escape of two keys", `{"x":{" di":{"a__":1,"b__":2}}}`, nil},
		{"markup not a string", `{"x":{" m":[]}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := decodePayload(flaskScheme{}, []byte(tc.payload))
			if tc.want == nil {
				if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalidCookie) {
					t.Errorf("decode %s = %#v, %v; want ErrMalformed", tc.payload, got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decode %s = %#v, %v; want %#v", tc.payload, got, err, tc.want)
			}
		})
	}
}

func TestFlaskMetadata(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    meta
		bad     bool
	}{
		{`{"_user_id":"7","_fresh":true}`, meta{UserID: "7", Fresh: true}, false},
		{`{"_user_id":7,"_fresh":false}`, meta{UserID: "7"}, false},
		{`{"_flashes":[{" t":["info","hi"]},["error",{" m":"<b>x</b>"}]]}`, meta{Flashes: []Flash{{"info", "hi"}, {"error", "<b>x</b>"}}}, false},
		{`{"_ctxsession":{"c":1700000000}}`, meta{Created: time.Unix(1700000000, 0)}, false},
		{`{"_user_id":true}`, meta{}, true},
		{`{"_user_id":null}`, meta{}, true},
		{`{"_fresh":"yes"}`, meta{}, true},
		{`{"_flashes":[["only-one"]]}`, meta{}, true},
		{`{"_flashes":{"a":"b"}}`, meta{}, true},
		{`{"_ctxsession":[]}`, meta{}, true},
		{`{"_ctxsession":{"c":"now"}}`, meta{}, true},
	} {
		values, m, err := decodePayload(flaskScheme{}, []byte(tc.payload))
		if tc.bad {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("decode %s: err %v, want ErrMalformed", tc.payload, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(m, tc.want) || len(values) != 0 {
			t.Errorf("decode %s = %v, %+v, %v; want no values, %+v", tc.payload, values, m, err, tc.want)
		}
	}

	// Writing: Flask-Login's keys, Flask's tuple-tagged flashes, our created time.
	got, err := encodePayload(nil, flaskScheme{}, map[string]any{"a": 1}, meta{UserID: "u", Fresh: true, Created: time.Unix(5, 0), Flashes: []Flash{{"c", "m"}}})
	want := `{"a":1,"_ctxsession":{"c":5},"_flashes":[{" t":["c","m"]}],"_fresh":true,"_user_id":"u"}`
	if err != nil || string(got) != want {
		t.Errorf("encode = %s, %v; want %s", got, err, want)
	}
	got, _ = encodePayload(nil, flaskScheme{}, map[string]any{}, meta{UserID: "u"})
	if want := `{"_ctxsession":{"c":0},"_fresh":false,"_user_id":"u"}`; string(got) != want {
		t.Errorf("encode stale login = %s; want %s", got, want)
	}
	for _, k := range []string{"_user_id", "_fresh", "_flashes", ReservedKey} {
		if !(flaskScheme{}).reserved(k) {
			t.Errorf("%s is not reserved", k)
		}
	}
	if (flaskScheme{}).reserved("_id") || (flaskScheme{}).reserved("_permanent") {
		t.Errorf("Flask's own plain keys are reserved")
	}
}

// TestFlaskTagsWithUserCodec: the tags are FormatFlask's, not its codec's,
// so a user Codec with FormatFlask still round-trips values whose keys look
// like tags, through the middleware.
func TestFlaskTagsWithUserCodec(t *testing.T) {
	e := mwNew(t, SessionConfig{Format: FormatFlask, Codec: upperCodec{}})
	tagLike := map[string]any{" t": []any{json1, json2}}
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("k", tagLike)
	}, "")
	c := mwSessionCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no session cookie")
	var got any
	e.do(func(w http.ResponseWriter, r *http.Request) {
		got, _ = mwGetSession(t, r).Get("k")
	}, c.Value)
	assert.Equal(t, tagLike, got)
}

// Values whose keys look like Flask tags survive Go -> cookie -> Go, and
// the escape happens only where Flask would misread the value.
func TestFlaskEscapeRoundTrip(t *testing.T) {
	m := ixNew(t, SessionConfig{Format: FormatFlask})
	values := map[string]any{
		" t":    "top-level key that is a tag",
		"one":   map[string]any{" b": "x"},
		"deep":  []any{map[string]any{" di": map[string]any{" u": "y"}}},
		"two":   map[string]any{" t": json1, "z": json2},
		"plain": map[string]any{"t": "no space"},
	}
	v, err := m.Encode(values)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Decode(context.Background(), v)
	if err != nil || !reflect.DeepEqual(got, values) {
		t.Errorf("round trip = %#v, %v; want %#v", got, err, values)
	}
	d, err := m.codec.Decode(v, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := parseObject(d.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ixJSON(t, raw["one"]), `{" di":{" b__":"x"}}`; got != want {
		t.Errorf("one-key tag dict written as %s, want %s", got, want)
	}
	if got, want := ixJSON(t, raw["two"]), `{" t":1,"z":2}`; got != want {
		t.Errorf("two-key dict written as %s, want %s", got, want)
	}
}
