package sessions

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlaskTags(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		want          map[string]any // nil: want ErrMalformed
	}{
		{"tuple", `{"x":{" t":[1,"a"]}}`, map[string]any{"x": []any{json.Number("1"), "a"}}},
		{"bytes", `{"x":{" b":"AP8="}}`, map[string]any{"x": []byte{0, 0xff}}},
		{"markup", `{"x":{" m":"<b>"}}`, map[string]any{"x": "<b>"}},
		{"uuid hex", `{"x":{" u":"12345678123456781234567812345678"}}`, map[string]any{"x": "12345678-1234-5678-1234-567812345678"}},
		{"uuid braces", `{"x":{" u":"{12345678-1234-5678-1234-56781234567A}"}}`, map[string]any{"x": "12345678-1234-5678-1234-56781234567a"}},
		{"uuid urn", `{"x":{" u":"urn:uuid:12345678-1234-5678-1234-567812345678"}}`, map[string]any{"x": "12345678-1234-5678-1234-567812345678"}},
		{"http date", `{"x":{" d":"Mon, 06 May 2024 07:08:09 GMT"}}`, map[string]any{"x": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}},
		{"numeric zone", `{"x":{" d":"Mon, 06 May 2024 09:08:09 +0200"}}`, map[string]any{"x": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}},
		{"escaped dict", `{"x":{" di":{" t__":{" t":[1]}}}}`, map[string]any{"x": map[string]any{" t": []any{json.Number("1")}}}},
		{"nested", `{"x":[{" t":[{" b":"eA=="}]},{"y":{" m":"m"}}]}`, map[string]any{"x": []any{[]any{[]byte("x")}, map[string]any{"y": "m"}}}},
		{"unknown tag kept", `{"x":{" od":[1]}}`, map[string]any{"x": map[string]any{" od": []any{json.Number("1")}}}},
		{"two keys are no tag", `{"x":{" t":[1],"y":2}}`, map[string]any{"x": map[string]any{" t": []any{json.Number("1")}, "y": json.Number("2")}}},
		{"whole session escaped", `{" di":{" t__":1}}`, map[string]any{" t": json.Number("1")}},
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
				assert.ErrorIs(t, err, ErrMalformed)
				assert.ErrorIs(t, err, ErrInvalidCookie)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
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
			assert.ErrorIs(t, err, ErrMalformed, tc.payload)
			continue
		}
		if assert.NoError(t, err, tc.payload) {
			assert.Equal(t, tc.want, m, tc.payload)
			assert.Empty(t, values, tc.payload)
		}
	}

	// Writing: Flask-Login's keys, Flask's tuple-tagged flashes, our created time.
	got, err := encodePayload(nil, flaskScheme{}, map[string]any{"a": 1}, meta{UserID: "u", Fresh: true, Created: time.Unix(5, 0), Flashes: []Flash{{"c", "m"}}})
	want := `{"a":1,"_ctxsession":{"c":5},"_flashes":[{" t":["c","m"]}],"_fresh":true,"_user_id":"u"}`
	require.NoError(t, err)
	assert.Equal(t, want, string(got))
	got, err = encodePayload(nil, flaskScheme{}, map[string]any{}, meta{UserID: "u"})
	require.NoError(t, err)
	assert.Equal(t, `{"_ctxsession":{"c":0},"_fresh":false,"_user_id":"u"}`, string(got), "a stale login")
	for _, k := range []string{"_user_id", "_fresh", "_flashes", ReservedKey} {
		assert.True(t, (flaskScheme{}).reserved(k), "%s is reserved", k)
	}
	// Flask's own plain keys are not.
	assert.False(t, (flaskScheme{}).reserved("_id"))
	assert.False(t, (flaskScheme{}).reserved("_permanent"))
}

// TestFlaskTagsWithUserCodec: the tags are FormatFlask's, not its codec's,
// so a user Codec with FormatFlask still round-trips values whose keys look
// like tags, through the middleware.
func TestFlaskTagsWithUserCodec(t *testing.T) {
	e := NewEnv(t, SessionConfig{Format: FormatFlask, Codec: ReverseCodec{}})
	tagLike := map[string]any{" t": []any{json.Number("1"), json.Number("2")}}
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		MustSession(t, r).Set("k", tagLike)
	}, "")
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no session cookie")
	var got any
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		got, _ = MustSession(t, r).Get("k")
	}, c.Value)
	assert.Equal(t, tagLike, got)
}

// Values whose keys look like Flask tags survive Go -> cookie -> Go, and
// the escape happens only where Flask would misread the value.
func TestFlaskEscapeRoundTrip(t *testing.T) {
	m := NewEnv(t, SessionConfig{Format: FormatFlask}).M
	values := map[string]any{
		" t":    "top-level key that is a tag",
		"one":   map[string]any{" b": "x"},
		"deep":  []any{map[string]any{" di": map[string]any{" u": "y"}}},
		"two":   map[string]any{" t": json.Number("1"), "z": json.Number("2")},
		"plain": map[string]any{"t": "no space"},
	}
	v, err := m.Encode(values)
	require.NoError(t, err)
	got, err := m.Decode(context.Background(), v)
	require.NoError(t, err)
	assert.Equal(t, values, got, "round trip")
	d, err := m.codec.Decode(v, time.Now())
	require.NoError(t, err)
	raw, err := parseObject(d.Payload)
	require.NoError(t, err)
	jsonOf := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, `{" di":{" b__":"x"}}`, jsonOf(raw["one"]), "a one-key tag-like dict")
	assert.Equal(t, `{" t":1,"z":2}`, jsonOf(raw["two"]), "a two-key dict")
}

// TestFlaskVectors: values Flask 3.1.3 (itsdangerous 2.2) wrote, pinned so
// that the format stays fixed even where Python is missing (the interop
// tests run Flask itself).
func TestFlaskVectors(t *testing.T) {
	const rich = ".eJx9jjELwjAQhf_K8eYM1yJWAw5OumRzk1IipiYgLSTNIKX_3Utw9oYP3uPjeCsW6BUkvDcKFv2m8KiVEOfr6wRpnrURwsyTIt6TsR9qud0Rd5oPmo90Mbei5qoKwf-vKfaQk4tDKJ87SByjSx56idmV9LbJuyTbfhMRpnEWzwcZ2m9fiv8xqA.ZVPxAA.Kql9Sua-g8hBJusjxmZ8kQwS-_w"
	for _, tc := range []struct {
		python string // what Flask wrote
		same   bool   // Go writes the identical value for the same session
		want   map[string]any
	}{
		{"eyJrIjoidiIsIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9fQ.ZVPxAA.C5aFX5Mqcvnx-zcQib2Ijk0zARY", true, map[string]any{"k": "v"}},
		{rich, false, map[string]any{"t": []any{json.Number("1"), "a"}, "b": []byte("\x00x"), "d": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), "u": "00000000-0000-0000-0000-000000000001"}},
	} {
		checkPythonVector(t, FormatFlask, tc.python, tc.same, tc.want)
	}

	// The rich vector also carries Flask-Login's keys and a flash.
	e := NewEnv(t, SessionConfig{Format: FormatFlask, SecretKey: pythonKey})
	d, err := e.M.codec.Decode(rich, time.Unix(pythonUnix, 0))
	require.NoError(t, err)
	_, md, err := decodePayload(flaskScheme{}, d.Payload)
	want := meta{UserID: "7", Fresh: true, Flashes: []Flash{{"info", "hi"}}}
	require.NoError(t, err)
	assert.Equal(t, want, md, "Flask metadata")
}

// Flask-Login's _create_identifier(), computed by Flask-Login 0.6.2 for each
// request (Werkzeug's REMOTE_ADDR and headers).
func TestFlaskLoginWritesSessionProtectionIdentifier(t *testing.T) {
	tests := []struct {
		remote  string
		headers map[string]string
		want    string
	}{
		{"127.0.0.1:5000", map[string]string{"User-Agent": "curl/8.5.0"},
			"36646aa58fb1704b0c91f63d25a2ea3f646133864435a284f63032429e0e21acd30239c0875c0be3c470d75a3eccd0b19f9cba433db25df33ac7effd1fa6757e"},
		{"127.0.0.1:5000", nil, // no User-Agent: None
			"656d8f867997c2a40397700861e67a333b935d82576d85577e2da5109fbf90ba7d035f50908ba54969f8b60c156c4a762615d025942cb19ae24d329b88d388db"},
		{"192.0.2.7:1", map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2", "User-Agent": "Mozilla/5.0"},
			"4e26a2bed84f2d552228531283b1c8752aaa46974790b40a4a366a64e25a04d64cc8fcd3f5018cc8ace6c423c26bd8ed2d9e042c88422ee7b50e394bb9de02db"},
		{"[::1]:8080", map[string]string{"User-Agent": "it's"},
			"eca1874071d2260b861d85dd4c4b5d024437e9384fdd767a68b09346a633856a6116663707c30784e2564731c46300cb8cb5abde7898c38f49b0830b5e6b692a"},
		{"127.0.0.1:5000", map[string]string{"User-Agent": `say "it's" \ ok`},
			"33bc345b556d70d2864896a44a444369c1fd365875546994b007352176a3321974bd09940016de812db78ac60199e279cc1a651d07f0a7e39a16f7f733d510f0"},
		{"127.0.0.1:5000", map[string]string{"User-Agent": "caf\xe9\x7f\t"}, // latin-1 bytes, as Werkzeug reads them
			"e4e533728190039375b8ced3b8a9755ebfd42a8a6cb3e91191f6ee97fc5089a425afe6dab9a81fca709efa36ae88ad42c588e701ab5fb8a0c65ed0ebf368bd20"},
		{"127.0.0.1:5000", map[string]string{"X-Forwarded-For": "", "User-Agent": ""},
			"358c75efad91b96196234d646433801bfe4ffbc6ed6df7aa5d9380ad8df73ef659e62a15145a31d0299a23f0cae045bc4ef6fcca20887163948e1054ca8e4716"},
		{"127.0.0.1:5000", map[string]string{"X-Forwarded-For": " 203.0.113.9 ,x"},
			"52fde07d0cd297b8b9de112cb74a780441a0cfc8447ebe95d5d3632f3c7e6e1b3143e39e262a9c5c2ceb58152bf1fc7fe5842da81790998545f8c63c5777d43f"},
	}
	e := NewEnv(t, SessionConfig{Format: FormatFlask})
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.remote
		req.Header.Del("User-Agent")
		for k, v := range tt.headers {
			req.Header[k] = []string{v}
		}
		rec := testkit.Serve(e.M.Handler(login(t, "7")), req)
		c := testkit.SetCookie(t, rec.Header(), "session")
		require.NotNil(t, c)
		values, err := e.M.Decode(t.Context(), c.Value)
		require.NoError(t, err)
		assert.Equal(t, tt.want, values["_id"], "_id for %s %q", tt.remote, tt.headers)
	}
}
