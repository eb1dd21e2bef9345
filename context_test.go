package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
)

func TestCommitBeforeStreaming(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	var inHandler []string
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		s.Set("a", 1)
		if err := Commit(r.Context()); err != nil {
			t.Errorf("Commit: %v", err)
		}
		inHandler = w.Header().Values("Set-Cookie")
		// Changed again before the headers went out: committed again,
		// replacing the first cookie.
		s.Set("b", 2)
		io.WriteString(w, "streamed")
	}, "")
	if len(inHandler) != 1 {
		t.Errorf("after Commit the headers hold %q, want one Set-Cookie", inHandler)
	}
	c := testkit.SetCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no session cookie")
	}
	values, err := e.M.Decode(context.Background(), c.Value)
	if err != nil || values["a"] != json.Number("1") || values["b"] != json.Number("2") {
		t.Errorf("cookie holds %v, %v; want a=1 b=2", values, err)
	}
	if got := rec.Header().Values("Cache-Control"); len(got) != 1 {
		t.Errorf("Cache-Control %q, want one", got)
	}

	// Commit of an unchanged session writes nothing and is not an error.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		if err := Commit(r.Context()); err != nil {
			t.Errorf("Commit: %v", err)
		}
	}, "")
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Commit of an empty session set %q", got)
	}
	// Commit reports what the error handler would have received.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		MustSession(t, r).Set("bad", make(chan int))
		if err := Commit(r.Context()); err == nil {
			t.Errorf("Commit of an unencodable value: nil error")
		}
	}, "")
	if rec.Code != http.StatusInternalServerError || len(e.Errors()) != 1 {
		t.Errorf("unencodable value: status %d, errors %v; want 500 and one error", rec.Code, e.Errors())
	}
}

func TestWithSession(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) {
		same, _ := GetSession(r.Context())
		if same != s {
			t.Errorf("WithSession passed %p, GetSession returns %p", s, same)
		}
		n, _ := GetAs[int](s, "n")
		s.Set("n", n+1)
		fmt.Fprint(w, n+1)
	}))
	srv.Get("/")
	if got := srv.Get("/").Body; got != "2" {
		t.Errorf("second visit counted %s, want 2", got)
	}
	// Outside the middleware: a 500, the function not called.
	called := false
	rec := httptest.NewRecorder()
	WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) { called = true }).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if called || rec.Code != http.StatusInternalServerError {
		t.Errorf("outside the middleware: called %v, status %d; want false, 500", called, rec.Code)
	}
}

func TestErrNoSessionOutsideMiddleware(t *testing.T) {
	ctx := context.Background()
	if s, err := GetSession(ctx); s != nil || !errors.Is(err, ErrNoSession) {
		t.Errorf("GetSession: %v, %v", s, err)
	}
	if s, err := RegenerateSession(ctx); s != nil || !errors.Is(err, ErrNoSession) {
		t.Errorf("RegenerateSession: %v, %v", s, err)
	}
	for name, err := range map[string]error{
		"Login":     Login(ctx, "u"),
		"LoginKeep": LoginKeep(ctx, "u", "k"),
		"Logout":    Logout(ctx),
		"Destroy":   Destroy(ctx),
		"Commit":    Commit(ctx),
	} {
		if !errors.Is(err, ErrNoSession) {
			t.Errorf("%s: err %v, want ErrNoSession", name, err)
		}
	}
	if id, ok := UserID(ctx); id != "" || ok {
		t.Errorf("UserID: %q, %v", id, ok)
	}
	//lint:ignore SA1012 a nil context must not panic
	if _, err := GetSession(nil); !errors.Is(err, ErrNoSession) { //nolint:staticcheck
		t.Errorf("GetSession(nil): %v", err)
	}
}

// TestHandlerContext: the context the handler sees is the request's own,
// with the session added: its values, deadline and cancellation come
// through, and contexts derived from it still find the session.
func TestHandlerContext(t *testing.T) {
	m := NewEnv(t, SessionConfig{}).M
	type key struct{}
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
	deadline, _ := parent.Deadline()
	var checked bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if got := ctx.Value(key{}); got != "v" {
			t.Errorf("Value(parent key) = %v, want v", got)
		}
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("Deadline = %v, %v; want %v, true", d, ok, deadline)
		}
		child, stop := context.WithCancel(context.WithValue(ctx, key{}, "child"))
		defer stop()
		if _, err := GetSession(child); err != nil {
			t.Errorf("GetSession(derived context) = %v", err)
		}
		if ctx.Err() != nil || child.Err() != nil {
			t.Errorf("Err before cancel = %v, %v; want nil", ctx.Err(), child.Err())
		}
		cancel()
		<-child.Done()
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
			t.Errorf("Err after cancel = %v, %v; want context.Canceled", ctx.Err(), child.Err())
		}
		checked = true
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	if !checked {
		t.Fatal("handler did not run")
	}
}

// In-place changes made after an explicit Commit, to a map or slice handed
// out or stored before it, are committed again (before the headers) or
// reported (after them), never silently lost.
func TestInPlaceChangeAfterCommit(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{"list": []any{"a"}})
	tests := []struct {
		name string
		h    func(t *testing.T, w http.ResponseWriter, r *http.Request)
		want string // the value of list[0] or m["x"] the cookie must carry
	}{
		{"loaded slice", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := MustSession(t, r)
			l, _ := s.Get("list")
			s.Set("other", 1) // so that Commit writes
			if err := Commit(r.Context()); err != nil {
				t.Error(err)
			}
			l.([]any)[0] = "changed"
			io.WriteString(w, "body")
		}, "changed"},
		{"stored map", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			m := map[string]any{"x": "before"}
			MustSession(t, r).Set("m", m)
			if err := Commit(r.Context()); err != nil {
				t.Error(err)
			}
			m["x"] = "changed"
		}, "changed"},
	}
	for _, tt := range tests {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, cookie)
		c := testkit.SetCookie(t, rec.Header(), "session")
		if c == nil {
			t.Fatalf("%s: no cookie", tt.name)
		}
		v, err := e.M.Decode(context.Background(), c.Value)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if l, ok := v["list"].([]any); ok && tt.name == "loaded slice" {
			got = l[0]
		}
		if m, ok := v["m"].(map[string]any); ok {
			got = m["x"]
		}
		if got != tt.want {
			t.Errorf("%s: cookie carries %v, want %q", tt.name, v, tt.want)
		}
	}

	// After the headers: reported.
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		l, _ := s.Get("list")
		s.Set("other", 1) // so that the session is written with the headers
		io.WriteString(w, "body")
		l.([]any)[0] = "too late"
	}, cookie)
	if errs := e.Errors(); len(errs) != 1 || !errors.Is(errs[0], ErrHeadersWritten) {
		t.Errorf("in-place change after the headers: errors %v, want [ErrHeadersWritten]", errs)
	}
}
