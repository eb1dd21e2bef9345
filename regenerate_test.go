package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

func TestDestroy(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
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
	srv.get("/set")
	if srv.jarCookie("session") == "" {
		t.Fatal("no cookie after /set")
	}
	resp := srv.get("/destroy")
	c := mwSessionCookie(t, resp.header, "session")
	if c == nil || c.MaxAge != -1 || c.Value != "" {
		t.Errorf("Destroy sent %v, want a deletion cookie", c)
	}
	if srv.jarCookie("session") != "" {
		t.Errorf("client still holds the cookie")
	}
	srv.get("/set")
	if got := srv.get("/destroy-then-set").body; got != "[fresh]" {
		t.Errorf("after Destroy and Set: keys %s, want [fresh]", got)
	}
	if got := srv.get("/").body; got != "[fresh]" {
		t.Errorf("next request: keys %s, want [fresh]", got)
	}
}

func TestRegenerateSession(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{"k": "v"})
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		old := mwGetSession(t, r)
		s, err := RegenerateSession(r.Context())
		if err != nil {
			t.Fatalf("RegenerateSession: %v", err)
		}
		if s != old || s.Len() != 0 {
			t.Errorf("RegenerateSession returned %p with %d keys, want the request's session (%p), empty", s, s.Len(), old)
		}
		s.Set("new", 1)
	}, cookie)
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no cookie after RegenerateSession")
	}
	values, err := e.m.Decode(context.Background(), c.Value)
	if err != nil || len(values) != 1 || values["new"] != json.Number("1") {
		t.Errorf("new cookie holds %v, %v; want only new=1", values, err)
	}
	// Regenerated and left empty: the old cookie is deleted.
	rec = e.do(func(w http.ResponseWriter, r *http.Request) { RegenerateSession(r.Context()) }, cookie)
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil || c.MaxAge != -1 {
		t.Errorf("regenerated empty session sent %v, want a deletion", c)
	}
}
