package sessions

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			assert.NoError(t, Login(ctx, "42"), "Login")
		case "/loginkeep":
			assert.NoError(t, LoginKeep(ctx, "43", "cart", "absent"), "LoginKeep")
		case "/login-empty":
			assert.ErrorIs(t, Login(ctx, ""), ErrInvalidUserID, "Login(\"\")")
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
	assert.NotEmpty(t, after, "Login must issue a new cookie")
	assert.NotEqual(t, before, after, "Login must issue a new cookie")
	// No pre-login keys, created at login.
	want := fmt.Sprintf("42 true [] %d", TestStart.Add(time.Hour).Unix())
	assert.Equal(t, want, resp.Body, "after Login")
	assert.Equal(t, want, srv.Get("/").Body, "the request after Login")
	// The cookie from before the login (which an attacker may have planted)
	// stays anonymous: the login is in the new cookie only.
	seen := e.Load("session=" + before)
	assert.Empty(t, seen.UserID, "the pre-login cookie after Login")
	assert.Len(t, seen.Values, 2, "the pre-login cookie after Login")
	srv.Get("/login-empty")

	srv2 := e.Server(h)
	srv2.Get("/anon")
	resp = srv2.Get("/loginkeep")
	want = fmt.Sprintf("43 true [cart] %d", TestStart.Add(time.Hour).Unix())
	assert.Equal(t, want, resp.Body, "after LoginKeep")
	assert.Equal(t, want, srv2.Get("/").Body, "the request after LoginKeep")

	// The absolute timeout counts from the login.
	e.Clock.Add(24*time.Hour - time.Second)
	assert.True(t, strings.HasPrefix(srv.Get("/").Body, "42 true"), "just before AbsoluteTimeout: logged in")
	e.Clock.Add(2 * time.Second)
	assert.True(t, strings.HasPrefix(srv.Get("/").Body, " false"), "after AbsoluteTimeout: anonymous")
}

func TestLogoutDeletesCookieWithPathAndDomain(t *testing.T) {
	e := NewEnv(t, SessionConfig{Path: "/app", Domain: "example.test", Secure: true, CookieName: "sid"})
	cookie := e.Mint(map[string]any{"k": "v"})
	var after int
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, Logout(r.Context()), "Logout")
		_, ok := UserID(r.Context())
		assert.False(t, ok, "UserID after Logout")
		after = MustSession(t, r).Len()
	}, cookie)
	c := testkit.SetCookie(t, rec.Header(), "sid")
	require.NotNil(t, c, "Logout sent no cookie")
	// A deletion with the cookie's Path, Domain, Secure and HttpOnly.
	assert.Equal(t, -1, c.MaxAge)
	assert.Equal(t, "/app", c.Path)
	assert.Equal(t, "example.test", c.Domain)
	assert.True(t, c.Secure, "Secure")
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.Zero(t, after, "keys after Logout")

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
	require.Equal(t, "u", srv.Get("/").Body, "logged in")
	srv.Get("/logout")
	assert.Empty(t, srv.Get("/").Body, "user after Logout")
	assert.Empty(t, srv.Cookie("session"), "cookie after Logout")
}

// Logout deletes the Python side's remember-me cookie when the request has
// one: Flask-Login's remember_token, microdot's _remember, or the configured
// name and path.
func TestLogoutDeletesRememberCookie(t *testing.T) {
	logout := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { require.NoError(t, Logout(r.Context())) })
	tests := []struct {
		cfg        SessionConfig
		name, path string
	}{
		{SessionConfig{Format: FormatFlask}, "remember_token", "/"},
		{SessionConfig{Format: FormatJWT}, "_remember", "/"},
		{SessionConfig{Format: FormatFlask, RememberCookieName: "keep", RememberCookiePath: "/app"}, "keep", "/app"},
		{SessionConfig{RememberCookieName: "rm"}, "rm", "/"},
	}
	for _, tt := range tests {
		e := NewEnv(t, tt.cfg)
		rec := e.Serve(logout, tt.name+"=1|abc")
		c := testkit.SetCookie(t, rec.Header(), tt.name)
		require.NotNil(t, c, "%v: no deletion of %s in %q", tt.cfg.Format, tt.name, rec.Header().Values("Set-Cookie"))
		assert.Equal(t, -1, c.MaxAge, "%s is deleted", tt.name)
		assert.Equal(t, tt.path, c.Path)
		// Without the cookie in the request, nothing is sent for it.
		assert.Nil(t, testkit.SetCookie(t, e.Serve(logout).Header(), tt.name))
	}
	// The default format has no remember-me cookie.
	rec := NewEnv(t, SessionConfig{}).Serve(logout, "remember_token=1")
	assert.Nil(t, testkit.SetCookie(t, rec.Header(), "remember_token"))
}

func TestOnLoginAddsToTheNewSession(t *testing.T) {
	var gotUser string
	var sawCart, sawOld any
	e := NewEnv(t, SessionConfig{Format: FormatDjango, CookieName: "sessionid",
		OnLogin: func(ctx context.Context, s *Session, userID string) error {
			gotUser = userID
			assert.Equal(t, userID, s.UserID(), "OnLogin's session has the user")
			sawCart, _ = s.Get("cart")
			sawOld, _ = s.Get("old")
			s.Set("_auth_user_backend", "django.contrib.auth.backends.ModelBackend")
			s.Set("_auth_user_hash", DjangoAuthHash(TestKey, "pbkdf2_sha256$x"))
			s.Delete("cart")
			s.AddFlash("info", "welcome")
			return nil
		}})
	anon := e.Issue("", map[string]any{"cart": "apple", "old": "x"})
	in := e.MustVisit(anon, func(r *http.Request, _ *Session) {
		require.NoError(t, LoginKeep(r.Context(), "42", "cart"))
	}).Cookie
	require.NotEmpty(t, in)
	assert.Equal(t, "42", gotUser)
	assert.Equal(t, "apple", sawCart, "OnLogin sees the kept keys")
	assert.Nil(t, sawOld, "OnLogin sees the new session, not the old one")
	values, err := e.M.Decode(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash":    DjangoAuthHash(TestKey, "pbkdf2_sha256$x"),
	}, values)
	var flashes []Flash
	var uid string
	e.MustVisit(in, func(_ *http.Request, s *Session) {
		flashes, uid = s.Flashes(), s.UserID()
	})
	assert.Equal(t, []Flash{{Category: "info", Message: "welcome"}}, flashes)
	assert.Equal(t, "42", uid)
}
