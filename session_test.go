package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
)

func TestSessionMethods(t *testing.T) {
	s := newTestSession()
	if s.Len() != 0 || len(s.Keys()) != 0 || s.UserID() != "" || !s.Created().IsZero() {
		t.Fatalf("new session: len %d keys %v user %q created %v", s.Len(), s.Keys(), s.UserID(), s.Created())
	}
	s.Set("b", 2)
	s.Set("a", "x")
	s.Set("c", nil)
	if got := s.Keys(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Keys = %v, want sorted [a b c]", got)
	}
	if v, ok := s.Get("c"); v != nil || !ok {
		t.Errorf("Get of a nil value = %v, %v; want nil, true", v, ok)
	}
	if v, ok := s.Get("missing"); v != nil || ok {
		t.Errorf("Get(missing) = %v, %v", v, ok)
	}
	s.Set(ReservedKey, "x")
	if _, ok := s.Get(ReservedKey); ok || s.Len() != 3 {
		t.Errorf("Set(ReservedKey) stored it (len %d)", s.Len())
	}
	s.Delete("b")
	if _, ok := s.Get("b"); ok || s.Len() != 2 {
		t.Errorf("Delete left b (len %d)", s.Len())
	}
	s.meta.UserID = "u"
	s.AddFlash("info", "one")
	s.Clear()
	if s.Len() != 0 || s.UserID() != "u" || len(s.meta.Flashes) != 1 {
		t.Errorf("Clear: len %d user %q flashes %v; want 0, user and flashes kept", s.Len(), s.UserID(), s.meta.Flashes)
	}
	if f := s.Flashes(); len(f) != 1 || f[0] != (Flash{"info", "one"}) {
		t.Errorf("Flashes = %v", f)
	}
	if f := s.Flashes(); f != nil {
		t.Errorf("Flashes twice = %v, want nil", f)
	}
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
		if got := s.dirty(); got != tt.dirty {
			t.Errorf("%s: dirty = %v, want %v", tt.name, got, tt.dirty)
		}
	}
}

func TestNestedInPlaceChangesSaved(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{
		"prefs": map[string]any{"theme": "dark", "deep": map[string]any{"n": 1}},
		"list":  []any{"a", "b"},
	})
	tests := []struct {
		name  string
		h     func(s *Session)
		check func(values map[string]any) bool
	}{
		{"map value", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["theme"] = "light"
		}, func(v map[string]any) bool { return v["prefs"].(map[string]any)["theme"] == "light" }},
		{"map in a map", func(s *Session) {
			v, _ := s.Get("prefs")
			v.(map[string]any)["deep"].(map[string]any)["n"] = 2
		}, func(v map[string]any) bool {
			return v["prefs"].(map[string]any)["deep"].(map[string]any)["n"] == json.Number("2")
		}},
		{"slice element", func(s *Session) {
			v, _ := s.Get("list")
			v.([]any)[1] = "z"
		}, func(v map[string]any) bool { return v["list"].([]any)[1] == "z" }},
		{"slice set then grown in place", func(s *Session) {
			s.Set("tags", []string{"x"})
			// not loaded from the cookie: a Set value is saved whatever happens to it
		}, func(v map[string]any) bool { return v["tags"].([]any)[0] == "x" }},
	}
	for _, tt := range tests {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(MustSession(t, r)) }, cookie)
		c := testkit.SetCookie(t, rec.Header(), "session")
		if c == nil {
			t.Errorf("%s: in-place change not written", tt.name)
			continue
		}
		values, err := e.M.Decode(context.Background(), c.Value)
		if err != nil {
			t.Fatalf("%s: Decode: %v", tt.name, err)
		}
		if !tt.check(values) {
			t.Errorf("%s: saved values %v do not hold the change", tt.name, values)
		}
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
				if err != nil {
					t.Error(err)
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
	if c == nil {
		t.Fatal("no cookie")
	}
	values, err := e.M.Decode(context.Background(), c.Value)
	if err != nil || len(values) != 16 {
		t.Errorf("saved %d keys (%v), want 16", len(values), err)
	}
	var flashes []Flash
	e.Do(func(w http.ResponseWriter, r *http.Request) { flashes = MustSession(t, r).Flashes() }, c.Value)
	if len(flashes) != 16 {
		t.Errorf("%d flashes, want 16", len(flashes))
	}
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
	if got := srv.Get("/show").Body; got != want {
		t.Errorf("flashes %s, want %s", got, want)
	}
	if got := srv.Get("/show").Body; got != "null\n" {
		t.Errorf("flashes shown twice: %s", got)
	}
	if srv.Cookie("session") != "" {
		t.Errorf("empty session still has a cookie")
	}
}
