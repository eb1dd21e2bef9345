package sessions

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

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
		{`{"a":"\ud800"}`, "sessions: malformed cookie: lone surrogate in JSON string"},
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

// FuzzDecodeCookie feeds arbitrary strings to the default codec and the
// payload decoder, both as a cookie value and as the signed part of one (so
// that base64, zlib and JSON are reached behind a valid signature). It must
// never panic, and anything accepted must re-encode and decode to the same
// values and metadata.
func FuzzDecodeCookie(f *testing.F) {
	for _, v := range cookieVectors {
		f.Add(v.cookie)
	}
	for _, v := range compressedVectors {
		f.Add(v.cookie)
	}
	f.Add("eyJhIjoxfQ")
	f.Add(".eJyrVkpUslIqSc0tBgA")
	f.Add("")
	m, err := New(SessionConfig{SecretKey: vectorKey, MaxAge: 100 * 365 * 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	c := m.codec.(*itsdangerousCodec)
	f.Fuzz(func(t *testing.T, s string) {
		now := vectorTime
		for _, value := range []string{s, c.s.sign([]byte(s), now)} {
			d, err := m.codec.Decode(value, now)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("Decode(%q): error %v does not match ErrInvalidCookie", value, err)
				}
				continue
			}
			values, md, err := decodePayload(m.scheme, d.Payload)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("decodePayload(%q): error %v does not match ErrInvalidCookie", d.Payload, err)
				}
				continue
			}
			payload, err := encodePayload(nil, m.scheme, values, md)
			if err != nil {
				t.Fatalf("encodePayload(%#v): %v", values, err)
			}
			enc, err := m.codec.Encode(payload, now)
			if err != nil {
				t.Fatal(err)
			}
			d2, err := m.codec.Decode(enc, now)
			if err != nil {
				t.Fatalf("Decode(Encode(%s)): %v", payload, err)
			}
			values2, md2, err := decodePayload(m.scheme, d2.Payload)
			if err != nil {
				t.Fatalf("decodePayload(%s): %v", d2.Payload, err)
			}
			if !reflect.DeepEqual(values2, values) {
				t.Fatalf("values changed in a round trip:\n got %#v\nwant %#v", values2, values)
			}
			if md2.UserID != md.UserID || !md2.Created.Equal(md.Created) || md2.Fresh != md.Fresh || !slices.Equal(md2.Flashes, md.Flashes) {
				t.Fatalf("metadata changed in a round trip:\n got %+v\nwant %+v", md2, md)
			}
		}
	})
}
