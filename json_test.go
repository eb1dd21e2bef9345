package sessions

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The decoder's and encoder's own rules are tested in internal/strictjson;
// these tests cover what the adapters add.

func TestParseObject(t *testing.T) {
	got, err := parseObject([]byte(`{"a":[1,"x"],"b":null}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{json.Number("1"), "x"}, "b": nil}, got)
}

// A decoding error matches ErrMalformed and ErrInvalidCookie, and gives the
// decoder's reason.
func TestParseObjectErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, "sessions: malformed cookie: payload is not a JSON object"},
		{`{"a":1,"a":2}`, "sessions: malformed cookie: duplicate key in JSON object"},
		{"{\"a\":\"\xff\"}", "sessions: malformed cookie: invalid UTF-8 in JSON string"},
		{`{"a":1}x`, "sessions: malformed cookie: trailing data after JSON object"},
	}
	for _, tt := range tests {
		v, err := parseObject([]byte(tt.in))
		assert.Nil(t, v, "parseObject(%q)", tt.in)
		assert.ErrorIs(t, err, ErrMalformed, "parseObject(%q)", tt.in)
		assert.ErrorIs(t, err, ErrInvalidCookie, "parseObject(%q)", tt.in)
		assert.EqualError(t, err, tt.want, "parseObject(%q)", tt.in)
	}
}

// A Flask cookie holding every value Python's json writes that encoding/json
// refuses or changes is read, and written back byte for byte after a Go
// handler changed another key; the login in it survives.
func TestPythonValuesSurviveAGoWrite(t *testing.T) {
	deep := strings.Repeat("[", 1000) + strings.Repeat("]", 1000)
	values := `"big":123456789012345678901234567890123,"deep":` + deep +
		`,"inf":Infinity,"nan":NaN,"ninf":-Infinity,"s":"\ud800","t":"x\udfffy"`
	for _, f := range []Format{FormatFlask, FormatStarlette, FormatDjango, FormatJWT} {
		e := NewEnv(t, SessionConfig{Format: f})
		cookie := pyMint(t, f, TestKey, `{"_fresh":true,"_user_id":"7",`+values+`}`, e.Clock.Now())
		var uid string
		var nan any
		rec := e.Do(func(_ http.ResponseWriter, r *http.Request) {
			s, err := GetSession(r.Context())
			require.NoError(t, err)
			uid = s.UserID()
			nan, _ = s.Get("nan")
			s.Set("go", 1)
		}, cookie)
		c := testkit.SetCookie(t, rec.Header(), "session")
		require.NotNil(t, c, "no cookie: %q", rec.Header().Values("Set-Cookie"))
		back, err := e.M.Decode(t.Context(), c.Value)
		require.NoError(t, err)
		enc, err := json.Marshal(back["big"])
		require.NoError(t, err)
		assert.Equal(t, "123456789012345678901234567890123", string(enc))
		assert.Equal(t, json.Number("NaN"), nan)
		fl, err := nan.(json.Number).Float64()
		require.NoError(t, err)
		assert.True(t, math.IsNaN(fl))
		assert.Equal(t, json.Number("-Infinity"), back["ninf"])
		assert.Equal(t, "\xed\xa0\x80", back["s"], "a lone surrogate is kept")
		if f == FormatFlask {
			assert.Equal(t, "7", uid)
			payload := pyPayload(t, c.Value)
			assert.Contains(t, payload, `"go":1,"inf":Infinity,"nan":NaN,"ninf":-Infinity,"s":"\ud800","t":"x\udfffy"`)
			assert.Contains(t, payload, `"deep":`+deep+`,"go":1`)
		}
	}
}

// pyPayload is the JSON of a Flask (itsdangerous) cookie, unverified.
func pyPayload(t testing.TB, value string) string {
	t.Helper()
	compressed := strings.HasPrefix(value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimPrefix(value, "."), ".")[0])
	require.NoError(t, err)
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		raw, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return string(raw)
}
