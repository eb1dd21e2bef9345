package sessions

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetAs(t *testing.T) {
	type profile struct {
		Name string   `json:"name"`
		Age  int      `json:"age"`
		Tags []string `json:"tags"`
	}
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{
		"int": 42, "neg": -7, "big": json.Number("300"), "huge": json.Number("123456789012345678901234567890"),
		"float": 1.5, "intfloat": 2.0, "exp": json.Number("1e3"), "str": "hi", "bool": true, "null": nil,
		"list": []string{"a", "b"}, "profile": map[string]any{"name": "Ann", "age": 30, "tags": []any{"x"}},
		"maxint64": json.Number("9223372036854775807"), "maxuint64": json.Number("18446744073709551615"),
	})
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		check := func(name string, got any, ok bool, want any, wantOK bool) {
			t.Helper()
			assert.Equal(t, wantOK, ok, "%s: ok", name)
			if wantOK {
				assert.Equal(t, fmt.Sprint(want), fmt.Sprint(got), name)
			}
		}
		v1, ok := GetAs[int](s, "int")
		check("GetAs[int](int)", v1, ok, 42, true)
		v2, ok := GetAs[int64](s, "neg")
		check("GetAs[int64](neg)", v2, ok, -7, true)
		v3, ok := GetAs[int8](s, "big")
		check("GetAs[int8](300)", v3, ok, 0, false)
		v4, ok := GetAs[uint8](s, "neg")
		check("GetAs[uint8](-7)", v4, ok, 0, false)
		v5, ok := GetAs[int](s, "huge")
		check("GetAs[int](huge)", v5, ok, 0, false)
		v6, ok := GetAs[int](s, "float")
		check("GetAs[int](1.5)", v6, ok, 0, false)
		v7, ok := GetAs[int](s, "intfloat")
		check("GetAs[int](2.0)", v7, ok, 2, true)
		v8, ok := GetAs[int](s, "exp")
		check("GetAs[int](1e3)", v8, ok, 1000, true)
		v9, ok := GetAs[float64](s, "float")
		check("GetAs[float64](1.5)", v9, ok, 1.5, true)
		v10, ok := GetAs[float64](s, "int")
		check("GetAs[float64](42)", v10, ok, 42, true)
		v11, ok := GetAs[string](s, "int")
		check("GetAs[string](42)", v11, ok, "", false)
		v12, ok := GetAs[int](s, "str")
		check("GetAs[int](hi)", v12, ok, 0, false)
		v13, ok := GetAs[bool](s, "bool")
		check("GetAs[bool]", v13, ok, true, true)
		v14, ok := GetAs[[]string](s, "list")
		check("GetAs[[]string]", v14, ok, []string{"a", "b"}, true)
		v15, ok := GetAs[profile](s, "profile")
		check("GetAs[profile]", v15, ok, profile{"Ann", 30, []string{"x"}}, true)
		v16, ok := GetAs[int](s, "missing")
		check("GetAs[int](missing)", v16, ok, 0, false)
		v17, ok := GetAs[string](s, "null")
		check("GetAs[string](null)", v17, ok, "", false)
		v18, ok := GetAs[json.Number](s, "huge")
		check("GetAs[json.Number](huge)", v18, ok, "123456789012345678901234567890", true)
		v19, ok := GetAs[int64](s, "maxint64")
		check("GetAs[int64](max)", v19, ok, int64(9223372036854775807), true)
		v20, ok := GetAs[uint64](s, "maxuint64")
		check("GetAs[uint64](max)", v20, ok, uint64(18446744073709551615), true)
		v21, ok := GetAs[int64](s, "maxuint64")
		check("GetAs[int64](max uint64)", v21, ok, 0, false)
		v22, ok := GetAs[any](s, "str")
		check("GetAs[any]", v22, ok, "hi", true)
		v23, ok := GetAs[map[string]any](s, "profile")
		check("GetAs[map]", v23["name"], ok, "Ann", true)
		v24, ok := GetAs[[]int](s, "list")
		check("GetAs[[]int](strings)", v24, ok, nil, false)
		// A value set in this request keeps its Go type.
		s.Set("p", profile{Name: "Bo"})
		v25, ok := GetAs[profile](s, "p")
		check("GetAs[profile](set)", v25.Name, ok, "Bo", true)
	}, cookie)
}

// TestGetAsIntegers: the json.Number fast path of GetAs[int] and
// GetAs[int64] answers as the general conversion does.
func TestGetAsIntegers(t *testing.T) {
	tests := []struct {
		in    json.Number
		want  int64
		ok    bool
		okInt bool // int is 64 bits here; kept separate for clarity
	}{
		{"0", 0, true, true},
		{"42", 42, true, true},
		{"-7", -7, true, true},
		{"9223372036854775807", 9223372036854775807, true, true},
		{"9223372036854775808", 0, false, false},
		{"1e3", 1000, true, true},
		{"2.0", 2, true, true},
		{"1.5", 0, false, false},
		{"-0", 0, true, true},
	}
	for _, tc := range tests {
		s := &Session{scheme: defaultScheme{}, values: map[string]any{"k": tc.in}}
		got64, ok := GetAs[int64](s, "k")
		assert.Equal(t, tc.ok, ok, "GetAs[int64](%s) ok", tc.in)
		assert.Equal(t, tc.want, got64, "GetAs[int64](%s)", tc.in)
		got, ok := GetAs[int](s, "k")
		assert.Equal(t, tc.okInt, ok, "GetAs[int](%s) ok", tc.in)
		assert.Equal(t, tc.want, int64(got), "GetAs[int](%s)", tc.in)
	}
}

// A JSON null is a nil for the types that have one, and fits no other.
func TestGetAsNull(t *testing.T) {
	s := newTestSession()
	s.values = map[string]any{"null": nil}
	a, ok := GetAs[any](s, "null")
	assert.True(t, ok, "GetAs[any](null)")
	assert.Nil(t, a, "GetAs[any](null)")
	p, ok := GetAs[*int](s, "null")
	assert.True(t, ok, "GetAs[*int](null)")
	assert.Nil(t, p, "GetAs[*int](null)")
	m, ok := GetAs[map[string]any](s, "null")
	assert.True(t, ok, "GetAs[map](null)")
	assert.Nil(t, m, "GetAs[map](null)")
	l, ok := GetAs[[]string](s, "null")
	assert.True(t, ok, "GetAs[[]string](null)")
	assert.Nil(t, l, "GetAs[[]string](null)")
	str, ok := GetAs[string](s, "null")
	assert.False(t, ok, "GetAs[string](null)")
	assert.Equal(t, "", str, "GetAs[string](null)")
	n, ok := GetAs[int](s, "null")
	assert.False(t, ok, "GetAs[int](null)")
	assert.Equal(t, 0, n, "GetAs[int](null)")
	type pair struct{ A int }
	_, ok = GetAs[pair](s, "null")
	assert.False(t, ok, "GetAs[struct](null)")
	_, ok = GetAs[any](s, "missing")
	assert.False(t, ok, "GetAs[any](missing)")
}

// TestGetAsConversionIsNoChange: converting alone writes nothing.
func TestGetAsConversionIsNoChange(t *testing.T) {
	type prefs struct {
		Theme string `json:"theme"`
		Size  int    `json:"size"`
	}
	e := NewEnv(t, SessionConfig{})
	c := e.Issue("", map[string]any{"prefs": prefs{Theme: "light"}})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		_, ok := GetAs[*prefs](MustSession(t, r), "prefs")
		require.True(t, ok)
	}, c)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Nil(t, testkit.SetCookie(t, rec.Header(), e.Name), "no Set-Cookie for a conversion without an edit")
}
