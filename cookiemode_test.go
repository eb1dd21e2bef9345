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

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	m, err := New(SessionConfig{SecretKey: vectorKey, MaxAge: MaxMaxAge})
	require.NoError(f, err)
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

func TestCookieTooLarge(t *testing.T) {
	// A custom error handler receives ErrCookieTooLarge.
	e := NewEnv(t, SessionConfig{})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		MustSession(t, r).Set("v", Incompressible(MaxCookieSize))
	}, "")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	if errs := e.Errors(); assert.Len(t, errs, 1) {
		assert.ErrorIs(t, errs[0], ErrCookieTooLarge)
	}
	// Just under the limit is fine.
	e = NewEnv(t, SessionConfig{})
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		MustSession(t, r).Set("v", Incompressible(2900))
	}, "")
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "a 2900-byte value")
	assert.Empty(t, e.Errors(), "a 2900-byte value")
	assert.LessOrEqual(t, len("session=")+len(c.Value), MaxCookieSize, "the cookie sent")
}

func TestBadCookiesGiveEmptySession(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	codec := e.M.codec
	now := e.Clock.Now()
	sign := func(payload string) string {
		v, err := codec.Encode([]byte(payload), now)
		require.NoError(t, err)
		return v
	}
	good := e.Mint(map[string]any{"k": "v"})
	payload, rest, _ := strings.Cut(good, ".")
	tsPart, _, _ := strings.Cut(rest, ".")
	signRaw := func(value string) string { return codec.(*itsdangerousCodec).s.signRaw([]byte(value)) }
	wrongKey, _ := EncodeAt(NewEnv(t, SessionConfig{SecretKey: TestOtherKey}).M, map[string]any{"k": "v"}, now)
	oversized := sign(`{"v":"` + Incompressible(MaxCookieReadSize) + `"}`)
	expired, _ := EncodeAt(e.M, map[string]any{"k": "v"}, now.Add(-DefaultMaxAge-time.Second))
	future, _ := EncodeAt(e.M, map[string]any{"k": "v"}, now.Add(time.Hour))

	tests := []struct {
		name   string
		cookie string
		want   error
	}{
		{"tampered payload", b64.EncodeToString([]byte(`{"k":"w"}`)) + "." + rest, ErrBadSignature},
		{"truncated", good[:len(good)-5], ErrBadSignature},
		{"only payload", payload, ErrMalformed},
		{"wrong key", wrongKey, ErrBadSignature},
		{"bad base64", signRaw("eyJr*IjoidiJ9." + tsPart), ErrMalformed},
		{"base64 padding", signRaw(payload + "==." + tsPart), ErrMalformed},
		{"array JSON", sign(`[1,2]`), ErrMalformed},
		{"string JSON", sign(`"s"`), ErrMalformed},
		{"not JSON", sign(`k=v`), ErrMalformed},
		{"deep nesting", sign(`{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`), ErrMalformed},
		{"duplicate keys", sign(`{"k":"v","k":"w"}`), ErrMalformed},
		{"invalid UTF-8", sign("{\"k\":\"\xff\"}"), ErrMalformed},
		{"metadata not an object", sign(`{"_ctxsession":[]}`), ErrMalformed},
		{"user id not a string", sign(`{"_ctxsession":{"uid":42}}`), ErrMalformed},
		{"bad created time", sign(`{"_ctxsession":{"c":"yesterday"}}`), ErrMalformed},
		{"bad flashes", sign(`{"_ctxsession":{"f":[["only one"]]}}`), ErrMalformed},
		{"oversized", oversized, ErrMalformed},
		{"bad timestamp", signRaw(payload + ".!!!"), ErrMalformed},
		{"timestamp with padding", signRaw(payload + "." + tsPart + "=="), ErrMalformed},
		{"expired", expired, ErrExpired},
		{"future", future, ErrFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.Logs.Rejections())
			var keys []string
			var user string
			var gotErr error
			rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
				var s *Session
				s, gotErr = GetSession(r.Context())
				if s != nil {
					keys, user = s.Keys(), s.UserID()
				}
			}, tt.cookie)
			// A fresh empty session.
			assert.NoError(t, gotErr)
			assert.Empty(t, keys)
			assert.Empty(t, user)
			assert.Equal(t, http.StatusOK, rec.Code)
			rej := e.Logs.Rejections()[before:]
			require.Len(t, rej, 1, "logged rejections")
			assert.ErrorIs(t, rej[0], tt.want)
			assert.ErrorIs(t, rej[0], ErrInvalidCookie)
		})
	}

	// With several cookies of the name, the first that verifies wins.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Cookie", "session="+wrongKey+"; other=1")
	r.Header.Add("Cookie", `session="`+good+`"`)
	var got string
	e.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = GetAs[string](MustSession(t, r), "k")
	})).ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, "v", got, "a bad cookie then a good one")
	// A fresh session replacing a bad cookie is written once it holds data.
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) { MustSession(t, r).Set("n", 1) }, wrongKey)
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no cookie replaces the bad one")
	v, err := e.M.Decode(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"n": json.Number("1")}, v, "the replacement cookie")
}
