package sessions

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
)

func TestLoginPreventsFixation(t *testing.T) {
	e := NewEnv(t, SessionConfig{AbsoluteTimeout: 24 * time.Hour})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.URL.Path {
		case "/anon":
			s := MustSession(t, r)
			s.Set("cart", []string{"book"})
			s.Set("planted", "by attacker")
		case "/login":
			if err := Login(ctx, "42"); err != nil {
				t.Errorf("Login: %v", err)
			}
		case "/loginkeep":
			if err := LoginKeep(ctx, "43", "cart", "absent"); err != nil {
				t.Errorf("LoginKeep: %v", err)
			}
		case "/login-empty":
			if err := Login(ctx, ""); !errors.Is(err, ErrInvalidUserID) {
				t.Errorf("Login(\"\"): err %v, want ErrInvalidUserID", err)
			}
		}
		s := MustSession(t, r)
		id, ok := UserID(ctx)
		fmt.Fprintf(w, "%s %v %v %d", id, ok, s.Keys(), s.Created().Unix())
	})
	srv := e.Server(h)
	srv.Get("/anon")
	before := srv.Cookie("session")
	e.Clock.Add(time.Hour)
	resp := srv.Get("/login")
	after := srv.Cookie("session")
	if after == "" || after == before {
		t.Errorf("Login did not issue a new cookie")
	}
	want := fmt.Sprintf("42 true [] %d", TestStart.Add(time.Hour).Unix())
	if resp.Body != want || srv.Get("/").Body != want {
		t.Errorf("after Login: %q, want %q (no pre-login keys, created at login)", resp.Body, want)
	}
	// The cookie from before the login (which an attacker may have planted)
	// stays anonymous: the login is in the new cookie only.
	if seen := e.Load("session=" + before); seen.UserID != "" || len(seen.Values) != 2 {
		t.Errorf("the pre-login cookie after Login: %+v, want the anonymous session", seen)
	}
	srv.Get("/login-empty")

	srv2 := e.Server(h)
	srv2.Get("/anon")
	resp = srv2.Get("/loginkeep")
	want = fmt.Sprintf("43 true [cart] %d", TestStart.Add(time.Hour).Unix())
	if resp.Body != want || srv2.Get("/").Body != want {
		t.Errorf("after LoginKeep: %q, want %q", resp.Body, want)
	}

	// The absolute timeout counts from the login.
	e.Clock.Add(24*time.Hour - time.Second)
	if got := srv.Get("/").Body; !strings.HasPrefix(got, "42 true") {
		t.Errorf("just before AbsoluteTimeout: %q", got)
	}
	e.Clock.Add(2 * time.Second)
	if got := srv.Get("/").Body; !strings.HasPrefix(got, " false") {
		t.Errorf("after AbsoluteTimeout: %q, want anonymous", got)
	}
}

func TestLogoutDeletesCookieWithPathAndDomain(t *testing.T) {
	e := NewEnv(t, SessionConfig{Path: "/app", Domain: "example.test", Secure: true, CookieName: "sid"})
	cookie := e.Mint(map[string]any{"k": "v"})
	var after int
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		if err := Logout(r.Context()); err != nil {
			t.Errorf("Logout: %v", err)
		}
		if _, ok := UserID(r.Context()); ok {
			t.Errorf("UserID after Logout: ok")
		}
		after = MustSession(t, r).Len()
	}, cookie)
	c := testkit.SetCookie(t, rec.Header(), "sid")
	if c == nil || c.MaxAge != -1 || c.Path != "/app" || c.Domain != "example.test" || !c.Secure || !c.HttpOnly {
		t.Errorf("Logout sent %+v, want a deletion with Path /app, Domain example.test, Secure, HttpOnly", c)
	}
	if after != 0 {
		t.Errorf("%d keys after Logout", after)
	}

	// Logged in, then out, over a real connection.
	e2 := NewEnv(t, SessionConfig{})
	srv := e2.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			Login(r.Context(), "u")
		case "/logout":
			Logout(r.Context())
		}
		id, _ := UserID(r.Context())
		io.WriteString(w, id)
	}))
	srv.Get("/login")
	if srv.Get("/").Body != "u" {
		t.Fatal("not logged in")
	}
	srv.Get("/logout")
	if got := srv.Get("/").Body; got != "" || srv.Cookie("session") != "" {
		t.Errorf("after Logout: user %q, cookie %q", got, srv.Cookie("session"))
	}
}
