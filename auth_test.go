package sessions

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoginPreventsFixation(t *testing.T) {
	e := mwNew(t, SessionConfig{AbsoluteTimeout: 24 * time.Hour})
	srv := e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.URL.Path {
		case "/anon":
			s := mwGetSession(t, r)
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
		s := mwGetSession(t, r)
		id, ok := UserID(ctx)
		fmt.Fprintf(w, "%s %v %v %d", id, ok, s.Keys(), s.Created().Unix())
	}))
	srv.get("/anon")
	before := srv.jarCookie("session")
	e.clock.Add(time.Hour)
	resp := srv.get("/login")
	after := srv.jarCookie("session")
	if after == "" || after == before {
		t.Errorf("Login did not issue a new cookie")
	}
	want := fmt.Sprintf("42 true [] %d", mwT0.Add(time.Hour).Unix())
	if resp.body != want || srv.get("/").body != want {
		t.Errorf("after Login: %q, want %q (no pre-login keys, created at login)", resp.body, want)
	}
	srv.get("/login-empty")

	srv2 := e.serve(srv.handler)
	srv2.get("/anon")
	resp = srv2.get("/loginkeep")
	want = fmt.Sprintf("43 true [cart] %d", mwT0.Add(time.Hour).Unix())
	if resp.body != want || srv2.get("/").body != want {
		t.Errorf("after LoginKeep: %q, want %q", resp.body, want)
	}

	// The absolute timeout counts from the login.
	e.clock.Add(24*time.Hour - time.Second)
	if got := srv.get("/").body; !strings.HasPrefix(got, "42 true") {
		t.Errorf("just before AbsoluteTimeout: %q", got)
	}
	e.clock.Add(2 * time.Second)
	if got := srv.get("/").body; !strings.HasPrefix(got, " false") {
		t.Errorf("after AbsoluteTimeout: %q, want anonymous", got)
	}
}

func TestLogoutDeletesCookieWithPathAndDomain(t *testing.T) {
	e := mwNew(t, SessionConfig{Path: "/app", Domain: "example.test", Secure: true, CookieName: "sid"})
	cookie := e.mint(map[string]any{"k": "v"})
	var after int
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		if err := Logout(r.Context()); err != nil {
			t.Errorf("Logout: %v", err)
		}
		if _, ok := UserID(r.Context()); ok {
			t.Errorf("UserID after Logout: ok")
		}
		after = mwGetSession(t, r).Len()
	}, cookie)
	c := mwSessionCookie(t, rec.Header(), "sid")
	if c == nil || c.MaxAge != -1 || c.Path != "/app" || c.Domain != "example.test" || !c.Secure || !c.HttpOnly {
		t.Errorf("Logout sent %+v, want a deletion with Path /app, Domain example.test, Secure, HttpOnly", c)
	}
	if after != 0 {
		t.Errorf("%d keys after Logout", after)
	}

	// Logged in, then out, over a real connection.
	e2 := mwNew(t, SessionConfig{})
	srv := e2.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			Login(r.Context(), "u")
		case "/logout":
			Logout(r.Context())
		}
		id, _ := UserID(r.Context())
		io.WriteString(w, id)
	}))
	srv.get("/login")
	if srv.get("/").body != "u" {
		t.Fatal("not logged in")
	}
	srv.get("/logout")
	if got := srv.get("/").body; got != "" || srv.jarCookie("session") != "" {
		t.Errorf("after Logout: user %q, cookie %q", got, srv.jarCookie("session"))
	}
}
