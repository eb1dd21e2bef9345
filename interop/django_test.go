package interop

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run a real Django 3.2 project (testdata/peers/django_app.py:
// the signed_cookies session backend, django.contrib.auth, wsgiref's
// server) and a real Go server with FormatDjango, on two ports, with one
// browser going back and forth between them.

const djangoApp = "testdata/peers/django_app.py"

// djangoKey is the Django project's SECRET_KEY.
const djangoKey = "django-insecure-interop-0123456789abcdefghijklmnop"

// djangoServer is a running Django project and its users' password hashes
// (the password column of auth_user, by id).
type djangoServer struct {
	*peerServer
	hashes map[string]string
}

func startDjango(t *testing.T, secret string) *djangoServer {
	t.Helper()
	py := startPeer(t, debianPython, djangoApp, map[string]any{
		"secret": secret, "db": filepath.Join(t.TempDir(), "db.sqlite3"),
	})
	users, ok := py.info["users"].(map[string]any)
	require.True(t, ok, "the Django peer printed no users: %v", py.info)
	d := &djangoServer{peerServer: py, hashes: map[string]string{}}
	for id, h := range users {
		d.hashes[id], _ = h.(string)
	}
	return d
}

// djangoOnLogin is the OnLogin a Go service sharing Django's logins uses:
// Django's backend, and the session auth hash of the user's password hash
// as read from auth_user.
func djangoOnLogin(hashes map[string]string) func(context.Context, *sessions.Session, string) error {
	return func(_ context.Context, s *sessions.Session, userID string) error {
		hash, ok := hashes[userID]
		if !ok {
			return sessions.ErrInvalidUserID
		}
		s.Set("_auth_user_backend", "django.contrib.auth.backends.ModelBackend")
		s.Set("_auth_user_hash", sessions.DjangoAuthHash(djangoKey, hash))
		return nil
	}
}

// djangoPair starts Django and a Go server sharing its sessions.
func djangoPair(t *testing.T, cfg sessions.SessionConfig) (*djangoServer, *goServer, *browser) {
	t.Helper()
	d := startDjango(t, djangoKey)
	cfg.Format, cfg.CookieName, cfg.SecretKey = sessions.FormatDjango, "sessionid", djangoKey
	if cfg.OnLogin == nil {
		cfg.OnLogin = djangoOnLogin(d.hashes)
	}
	return d, startGo(t, newGo(t, cfg), goApp(t)), newBrowser(t)
}

// A Go Login (with OnLogin and DjangoAuthHash) is a login Django's
// request.user accepts, and survives Django writing the session.
func TestDjangoGoLoginAcceptedByRequestUser(t *testing.T) {
	t.Parallel()
	d, goSrv, b := djangoPair(t, sessions.SessionConfig{})
	b.ok("POST", goSrv.base+"/go/login/1")
	who := b.ok("GET", d.base+"/whoami")
	assert.Equal(t, json1, who["user"], "request.user after a Go login: %v", who)
	assert.Equal(t, "ann", who["username"])
	b.ok("POST", d.base+"/set/from/django")
	assert.Equal(t, "1", b.ok("GET", goSrv.base+"/go/whoami")["user"])
	assert.Equal(t, json1, b.ok("GET", d.base+"/whoami")["user"])

	// Go logs out: Django's user is anonymous.
	b.ok("POST", goSrv.base+"/go/logout")
	assert.Nil(t, b.ok("GET", d.base+"/whoami")["user"])
}

// Without the auth hash Django refuses the login (and flushes the
// session): OnLogin is what makes a Go login a Django login.
func TestDjangoGoLoginNeedsTheAuthHash(t *testing.T) {
	t.Parallel()
	d, goSrv, b := djangoPair(t, sessions.SessionConfig{
		OnLogin: func(_ context.Context, s *sessions.Session, _ string) error {
			s.Set("_auth_user_backend", "django.contrib.auth.backends.ModelBackend")
			return nil
		}})
	b.ok("POST", goSrv.base+"/go/login/1")
	assert.Nil(t, b.ok("GET", d.base+"/whoami")["user"], "Django accepted a login without _auth_user_hash")
}

// A password change in Django changes the auth hash, which ends a Go-made
// login there, as it ends Django's own.
func TestDjangoPasswordChangeEndsGoLogin(t *testing.T) {
	t.Parallel()
	d, goSrv, b := djangoPair(t, sessions.SessionConfig{})
	b.ok("POST", goSrv.base+"/go/login/2")
	require.Equal(t, json2, b.ok("GET", d.base+"/whoami")["user"])
	b.ok("POST", d.base+"/password/2/changed")
	assert.Nil(t, b.ok("GET", d.base+"/whoami")["user"])
}

// A Django login (django.contrib.auth.login) is seen by UserID; a Go write
// keeps it, and a Django logout ends it for Go.
func TestDjangoLoginSeenByGoUserID(t *testing.T) {
	t.Parallel()
	d, goSrv, b := djangoPair(t, sessions.SessionConfig{})
	b.ok("POST", d.base+"/login/2")
	who := b.ok("GET", goSrv.base+"/go/whoami")
	assert.Equal(t, "2", who["user"], "UserID after a Django login: %v", who)
	assert.Contains(t, who["keys"], "_auth_user_hash")
	b.ok("POST", goSrv.base+"/go/set/cart/apple")
	assert.Equal(t, json2, b.ok("GET", d.base+"/whoami")["user"], "the Go write broke Django's login")
	assert.Equal(t, "apple", b.ok("GET", d.base+"/get/cart")["value"])
	b.ok("POST", d.base+"/logout")
	assert.Nil(t, b.ok("GET", goSrv.base+"/go/whoami")["user"])
}

// Values both ways, non-ASCII included (Django reads the JSON as latin-1).
func TestDjangoValuesBothWays(t *testing.T) {
	t.Parallel()
	d, goSrv, b := djangoPair(t, sessions.SessionConfig{})
	b.ok("POST", goSrv.base+"/go/set/name/Zo%C3%AB%20%F0%9F%98%80")
	assert.Equal(t, "Zoë 😀", b.ok("GET", d.base+"/get/name")["value"])
	b.ok("POST", d.base+"/set/city/K%C3%B6ln")
	who := b.ok("GET", goSrv.base+"/go/whoami")
	assert.Contains(t, who["keys"], "city")
	b.ok("POST", goSrv.base+"/go/set/more/1")
	assert.Equal(t, "Köln", b.ok("GET", d.base+"/get/city")["value"])
	assert.Equal(t, "Zoë 😀", b.ok("GET", d.base+"/get/name")["value"])
}

// Key rotation through FallbackKeys: a cookie Django signed with the old
// SECRET_KEY is read by a Go service on the new key with the old one as a
// fallback, and re-signed so that Django on the new key reads it. (Django
// 3.2 has no SECRET_KEY_FALLBACKS, and its auth hash depends on
// SECRET_KEY, so only values, not logins, survive a rotation there.)
func TestDjangoKeyRotation(t *testing.T) {
	t.Parallel()
	const oldDjangoKey = "django-insecure-interop-OLD-0123456789abcdefghij"
	oldD := startDjango(t, oldDjangoKey)
	newD := startDjango(t, djangoKey)
	g := newGo(t, sessions.SessionConfig{Format: sessions.FormatDjango, CookieName: "sessionid",
		SecretKey: djangoKey, FallbackKeys: []string{oldDjangoKey}})
	goSrv := startGo(t, g, goApp(t))
	// Without the Go service between them, Django on the new key does not
	// read the old cookie (and deletes it).
	direct := newBrowser(t)
	direct.ok("POST", oldD.base+"/set/k/v")
	assert.Nil(t, direct.ok("GET", newD.base+"/get/k")["value"], "Django on the new key read the old cookie")

	b := newBrowser(t)
	b.ok("POST", oldD.base+"/set/k/v")
	r := b.do(http.MethodGet, goSrv.base+"/go/whoami")
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body["keys"], "k")
	require.NotNil(t, r.setCookie("sessionid"), "Go did not re-sign the cookie")
	assert.Equal(t, "v", b.ok("GET", newD.base+"/get/k")["value"])
}
