package sessions

import (
	"encoding/json"
	"testing"

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
