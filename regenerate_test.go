package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
)

func TestDestroy(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		switch r.URL.Path {
		case "/set":
			s.Set("k", "v")
		case "/destroy":
			if err := Destroy(r.Context()); err != nil {
				t.Errorf("Destroy: %v", err)
			}
			if s.Len() != 0 {
				t.Errorf("after Destroy Len = %d", s.Len())
			}
		case "/destroy-then-set":
			Destroy(r.Context())
			s.Set("fresh", true)
		}
		fmt.Fprint(w, s.Keys())
	}))
	srv.Get("/set")
	if srv.Cookie("session") == "" {
		t.Fatal("no cookie after /set")
	}
	resp := srv.Get("/destroy")
	c := testkit.SetCookie(t, resp.Header, "session")
	if c == nil || c.MaxAge != -1 || c.Value != "" {
		t.Errorf("Destroy sent %v, want a deletion cookie", c)
	}
	if srv.Cookie("session") != "" {
		t.Errorf("client still holds the cookie")
	}
	srv.Get("/set")
	if got := srv.Get("/destroy-then-set").Body; got != "[fresh]" {
		t.Errorf("after Destroy and Set: keys %s, want [fresh]", got)
	}
	if got := srv.Get("/").Body; got != "[fresh]" {
		t.Errorf("next request: keys %s, want [fresh]", got)
	}
}

func TestRegenerateSession(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{"k": "v"})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		old := MustSession(t, r)
		s, err := RegenerateSession(r.Context())
		if err != nil {
			t.Fatalf("RegenerateSession: %v", err)
		}
		if s != old || s.Len() != 0 {
			t.Errorf("RegenerateSession returned %p with %d keys, want the request's session (%p), empty", s, s.Len(), old)
		}
		s.Set("new", 1)
	}, cookie)
	c := testkit.SetCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no cookie after RegenerateSession")
	}
	values, err := e.M.Decode(context.Background(), c.Value)
	if err != nil || len(values) != 1 || values["new"] != json.Number("1") {
		t.Errorf("new cookie holds %v, %v; want only new=1", values, err)
	}
	// Regenerated and left empty: the old cookie is deleted.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) { RegenerateSession(r.Context()) }, cookie)
	if c := testkit.SetCookie(t, rec.Header(), "session"); c == nil || c.MaxAge != -1 {
		t.Errorf("regenerated empty session sent %v, want a deletion", c)
	}
}
