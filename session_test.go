package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionMethods(t *testing.T) {
	s := newTestSession()
	require.Zero(t, s.Len(), "new session")
	require.Empty(t, s.Keys(), "new session")
	require.Empty(t, s.UserID(), "new session")
	require.True(t, s.Created().IsZero(), "new session: Created")
	s.Set("b", 2)
	s.Set("a", "x")
	s.Set("c", nil)
	assert.Equal(t, []string{"a", "b", "c"}, s.Keys(), "sorted")
	v, ok := s.Get("c")
	assert.True(t, ok, "Get of a nil value")
	assert.Nil(t, v, "Get of a nil value")
	v, ok = s.Get("missing")
	assert.False(t, ok, "Get(missing)")
	assert.Nil(t, v, "Get(missing)")
	s.Set(ReservedKey, "x")
	_, ok = s.Get(ReservedKey)
	assert.False(t, ok, "Set(ReservedKey) stored it")
	assert.Equal(t, 3, s.Len())
	s.Delete("b")
	_, ok = s.Get("b")
	assert.False(t, ok, "Delete left b")
	assert.Equal(t, 2, s.Len())
	s.meta.UserID = "u"
	s.AddFlash("info", "one")
	s.Clear()
	// Clear keeps the user and the flashes.
	assert.Zero(t, s.Len(), "after Clear")
	assert.Equal(t, "u", s.UserID(), "after Clear")
	assert.Equal(t, []Flash{{"info", "one"}}, s.Flashes(), "after Clear")
	assert.Nil(t, s.Flashes(), "Flashes twice")
}

func TestSessionDirty(t *testing.T) {
	load := func(values map[string]any) *Session {
		s := newTestSession()
		s.values = values
		return s
	}
	tests := []struct {
		name   string
		values map[string]any
		change func(s *Session)
		dirty  bool
	}{
		{"nothing", map[string]any{"a": json.Number("1")}, func(s *Session) { s.Get("a") }, false},
		{"set", map[string]any{}, func(s *Session) { s.Set("a", 1) }, true},
		{"delete missing", map[string]any{}, func(s *Session) { s.Delete("a") }, false},
		{"clear empty", map[string]any{}, func(s *Session) { s.Clear() }, false},
		{"read a map", map[string]any{"m": map[string]any{"k": "v"}}, func(s *Session) { s.Get("m") }, false},
		{"change a map", map[string]any{"m": map[string]any{"k": "v"}}, func(s *Session) {
			m, _ := s.Get("m")
			m.(map[string]any)["k"] = "w"
		}, true},
		{"append to a nested slice", map[string]any{"m": map[string]any{"l": []any{}}}, func(s *Session) {
			m, _ := s.Get("m")
			m.(map[string]any)["l"] = append(m.(map[string]any)["l"].([]any), 1)
		}, true},
		{"change a slice after reading another key", map[string]any{"l": []any{"a"}, "n": json.Number("1")}, func(s *Session) {
			s.Get("n")
			l, _ := s.Get("l")
			l.([]any)[0] = "b"
		}, true},
	}
	for _, tt := range tests {
		s := load(tt.values)
		tt.change(s)
		assert.Equal(t, tt.dirty, s.changed(), tt.name)
	}
}

func TestNestedInPlaceChangesSaved(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{
		"prefs": map[string]any{"theme": "dark", "deep": map[string]any{"n": 1}},
		"list":  []any{"a", "b"},
	})
	tests := []struct {
		name string
		h    func(s *Session)
		key  string // the saved key that holds the change
		want any
	}{
		{"map value", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["theme"] = "light"
		}, "prefs", map[string]any{"theme": "light", "deep": map[string]any{"n": json.Number("1")}}},
		{"map in a map", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["deep"].(map[string]any)["n"] = 2
		}, "prefs", map[string]any{"theme": "dark", "deep": map[string]any{"n": json.Number("2")}}},
		{"slice element", func(s *Session) {
			v, _ := s.Get("list")
			v.([]any)[1] = "z"
		}, "list", []any{"a", "z"}},
		{"slice set then grown in place", func(s *Session) {
			s.Set("tags", []string{"x"})
			// not loaded from the cookie: a Set value is saved whatever happens to it
		}, "tags", []any{"x"}},
	}
	for _, tt := range tests {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(MustSession(t, r)) }, cookie)
		c := testkit.SetCookie(t, rec.Header(), "session")
		if !assert.NotNil(t, c, "%s: in-place change not written", tt.name) {
			continue
		}
		values, err := e.M.Decode(context.Background(), c.Value)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, values[tt.key], tt.name)
	}
}

func TestConcurrentUseFromGoroutines(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{"start": 1})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := GetSession(r.Context())
				if !assert.NoError(t, err) {
					return
				}
				key := fmt.Sprintf("k%02d", i)
				s.Set(key, i)
				s.Get("start")
				s.Keys()
				s.Len()
				GetAs[int](s, key)
				s.AddFlash("info", key)
				UserID(r.Context())
				if i%4 == 0 {
					s.Delete("start")
				}
			}()
		}
		wg.Wait()
		io.WriteString(w, "done")
	}, cookie)
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no cookie")
	values, err := e.M.Decode(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Len(t, values, 16, "saved keys")
	var flashes []Flash
	e.Do(func(w http.ResponseWriter, r *http.Request) { flashes = MustSession(t, r).Flashes() }, c.Value)
	assert.Len(t, flashes, 16)
}

func TestFlashMessages(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		if r.URL.Path == "/add" {
			s.AddFlash("info", "saved")
			s.AddFlash("error", "but check")
			return
		}
		json.NewEncoder(w).Encode(s.Flashes())
	}))
	srv.Get("/add")
	want := `[{"category":"info","message":"saved"},{"category":"error","message":"but check"}]` + "\n"
	assert.Equal(t, want, srv.Get("/show").Body)
	assert.Equal(t, "null\n", srv.Get("/show").Body, "flashes shown twice")
	assert.Empty(t, srv.Cookie("session"), "an empty session still has a cookie")
}
