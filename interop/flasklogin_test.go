package interop

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run a real Flask 2.2 app with the real Flask-Login 0.6.2
// (testdata/peers/flask_login_app.py, served by Werkzeug) and a real Go
// server with FormatFlask, on two ports, with one browser going back and
// forth between them.

const flaskLoginApp = "testdata/peers/flask_login_app.py"

// flaskCfg configures the Flask app (see flask_login_app.py).
type flaskCfg struct {
	Secret       string `json:"secret"`
	Protection   string `json:"protection,omitempty"`
	ServerName   string `json:"server_name,omitempty"`
	CookieName   string `json:"cookie_name,omitempty"`
	CookieDomain any    `json:"cookie_domain,omitempty"`
	Lifetime     int    `json:"lifetime,omitempty"`
}

// flaskPair starts the Flask app and a Go server sharing its sessions.
func flaskPair(t *testing.T, fc flaskCfg, gc sessions.SessionConfig) (*peerServer, *goServer, *browser) {
	t.Helper()
	if fc.Secret == "" {
		fc.Secret = testKey
	}
	gc.Format = sessions.FormatFlask
	py := startPeer(t, debianPython, flaskLoginApp, fc)
	goSrv := startGo(t, newGo(t, gc), goApp(t))
	return py, goSrv, newBrowser(t)
}

// Session protection, "basic" (Flask-Login's default): a Go login is fresh
// for Flask, so @fresh_login_required lets it through.
func TestFlaskLoginGoLoginIsFreshInBasicProtection(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{Protection: "basic"}, sessions.SessionConfig{})
	b.ok("POST", goSrv.base+"/go/login/7")
	r := b.do("GET", py.base+"/fresh")
	require.Equal(t, http.StatusOK, r.Status, "@fresh_login_required refused a Go login")
	who := b.ok("GET", py.base+"/whoami")
	assert.Equal(t, "7", who["user"])
	assert.Equal(t, true, who["fresh"], "Flask-Login marked the Go login stale: %v", who)
	assert.Equal(t, "7", b.ok("GET", goSrv.base+"/go/whoami")["user"])
}

// Session protection, "strong": a Go login survives Flask's check, behind
// a proxy (X-Forwarded-For) too, and Go still sees it after Flask wrote the
// session.
func TestFlaskLoginGoLoginSurvivesStrongProtection(t *testing.T) {
	t.Parallel()
	for _, xff := range []string{"", "203.0.113.7, 10.0.0.1"} {
		py, goSrv, b := flaskPair(t, flaskCfg{Protection: "strong"}, sessions.SessionConfig{})
		b.xff = xff
		b.ok("POST", goSrv.base+"/go/login/7")
		r := b.do("GET", py.base+"/protected")
		require.Equal(t, http.StatusOK, r.Status, "X-Forwarded-For %q: @login_required refused a Go login", xff)
		b.ok("GET", py.base+"/fresh")
		b.ok("POST", py.base+"/set/from/flask") // Flask writes the session
		assert.Equal(t, "7", b.ok("GET", goSrv.base+"/go/whoami")["user"], "X-Forwarded-For %q: the login was wiped", xff)
		assert.Equal(t, "7", b.ok("GET", py.base+"/whoami")["user"])
	}
}

// A Flask-Login login (login_user) is seen by Go, and a Go Logout ends it
// on both sides.
func TestFlaskLoginFlaskLoginSeenByGo(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{Protection: "strong"}, sessions.SessionConfig{})
	b.ok("POST", py.base+"/login/42")
	assert.Equal(t, "42", b.ok("GET", goSrv.base+"/go/whoami")["user"])
	b.ok("POST", goSrv.base+"/go/set/cart/apple")
	assert.Equal(t, "42", b.ok("GET", py.base+"/whoami")["user"], "the Go write logged the user out of Flask")
	b.ok("POST", goSrv.base+"/go/logout")
	assert.Nil(t, b.ok("GET", py.base+"/whoami")["user"])
	assert.Nil(t, b.ok("GET", goSrv.base+"/go/whoami")["user"])
}

// Remember me: a Go Logout also deletes Flask-Login's remember_token, so
// Flask does not log the user back in (and Go then see them again).
func TestFlaskLoginRememberCookieEndsWithGoLogout(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{}, sessions.SessionConfig{})
	b.ok("POST", py.base+"/login/7?remember=1")
	require.NotEmpty(t, b.cookies(py.base, "remember_token"), "Flask-Login set no remember cookie")
	b.ok("POST", goSrv.base+"/go/logout")
	assert.Empty(t, b.cookies(py.base, "remember_token"), "the remember cookie survived the Go Logout")
	assert.Nil(t, b.ok("GET", py.base+"/whoami")["user"], "Flask logged the user back in")
	assert.Nil(t, b.ok("GET", goSrv.base+"/go/whoami")["user"], "Go sees the user again")
}

// session.permanent: a Go Login keeps it, and a Go write makes the cookie
// persistent exactly when Flask would.
func TestFlaskPermanentSessionIsKeptAndDecidesPersistence(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{Lifetime: 3600}, sessions.SessionConfig{MaxAge: time.Hour})

	// Not permanent: Flask sends no expiry, and neither does Go.
	r := b.do("POST", py.base+"/set/k/v")
	c := r.setCookie("session")
	require.NotNil(t, c)
	assert.True(t, c.MaxAge == 0 && c.RawExpires == "", "Flask's browser-session cookie has an expiry: %v", c)
	c = b.do("POST", goSrv.base+"/go/set/go/1").setCookie("session")
	require.NotNil(t, c)
	assert.True(t, c.MaxAge == 0 && c.RawExpires == "", "Go made Flask's browser-session cookie persistent: %v", c)

	// Permanent: both send one, and a Go Login keeps it permanent.
	c = b.do("POST", py.base+"/permanent/1").setCookie("session")
	require.NotNil(t, c)
	assert.NotEmpty(t, c.RawExpires, "Flask's permanent cookie has no Expires")
	c = b.do("POST", goSrv.base+"/go/login/7").setCookie("session")
	require.NotNil(t, c)
	assert.Equal(t, 3600, c.MaxAge, "Go's cookie for a permanent session")
	who := b.ok("GET", py.base+"/whoami")
	assert.Equal(t, "7", who["user"])
	assert.Equal(t, true, who["permanent"], "the Go Login dropped session.permanent")
}

// Values Python's json writes and encoding/json refuses or changes (NaN,
// the infinities, lone surrogates, a 101-bit integer, 200 levels of
// nesting) are read by Go with the login next to them, and come back to
// Flask unchanged after a Go write.
func TestFlaskSpecialValuesSurviveGo(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{}, sessions.SessionConfig{})
	b.ok("POST", py.base+"/login/7")
	b.ok("POST", py.base+"/special")
	before := b.ok("GET", py.base+"/special")
	require.Equal(t, "nan", before["nan"])
	who := b.ok("GET", goSrv.base+"/go/whoami")
	assert.Equal(t, "7", who["user"], "Go rejected the session")
	assert.Contains(t, who["keys"], "nan")
	b.ok("POST", goSrv.base+"/go/set/go/1")
	assert.Equal(t, before, b.ok("GET", py.base+"/special"), "a value changed through the Go write")
	assert.Equal(t, "7", b.ok("GET", py.base+"/whoami")["user"])
}

// A Flask cookie of 4096 bytes (name and value), which browsers keep, is
// read by Go. (Flask compresses a payload this large, and "." + base64 of
// it never has 4096 - 7 - 35 bytes: the cookie is named "sessions" here, so
// that the total can be exactly 4096.)
func TestFlaskCookieOf4096BytesReadByGo(t *testing.T) {
	t.Parallel()
	const name = "sessions"
	py, goSrv, b := flaskPair(t, flaskCfg{CookieName: name}, sessions.SessionConfig{CookieName: name})
	b.ok("POST", py.base+"/login/7")
	b.ok("POST", py.base+"/pad/"+strconv.Itoa(sessions.MaxCookieSize))
	got := b.cookies(py.base, name)
	require.Len(t, got, 1)
	require.Len(t, name+got[0], sessions.MaxCookieSize)
	who := b.ok("GET", goSrv.base+"/go/whoami")
	assert.Equal(t, "7", who["user"], "Go rejected a 4096-byte cookie")
	assert.Contains(t, who["keys"], "pad")
}

// Clocks: itsdangerous rejects a timestamp in the future, so a Go host
// whose clock runs ahead writes cookies Flask reads as empty. Nothing on
// the Go side can change Flask's check: docs/python.md says the hosts need
// synchronised clocks. This pins the behaviour the docs describe.
func TestFlaskClockSkewDocumented(t *testing.T) {
	t.Parallel()
	py, goSrv, b := flaskPair(t, flaskCfg{}, sessions.SessionConfig{Now: func() time.Time { return time.Now().Add(5 * time.Second) }})
	b.ok("POST", goSrv.base+"/go/login/7")
	assert.Nil(t, b.ok("GET", py.base+"/whoami")["user"], "Flask accepted a cookie from 5 s in the future")
	// Synchronised clocks: shared.
	_, goSync, b2 := flaskPair(t, flaskCfg{}, sessions.SessionConfig{})
	b2.ok("POST", goSync.base+"/go/login/7")
	assert.Equal(t, "7", b2.ok("GET", py.base+"/whoami")["user"])
}

// Cookie scope: Flask 2.2 with SERVER_NAME gives its cookie
// Domain=.app.test; a host-only Go cookie of the same name is a second
// cookie, and both sides then read Flask's. docs/python.md recommends one
// scope for both: either SESSION_COOKIE_DOMAIN = False in Flask, or the
// same Domain on the Go side. Each gives the browser one session cookie,
// and a Go Logout logs the user out of Flask.
func TestFlaskCookieScopeRecommendedSettingsGiveOneCookie(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fc   flaskCfg
		gc   sessions.SessionConfig
		want int
	}{
		{"mismatched (the problem)", flaskCfg{ServerName: appHost}, sessions.SessionConfig{}, 2},
		{"SESSION_COOKIE_DOMAIN=False", flaskCfg{ServerName: appHost, CookieDomain: false}, sessions.SessionConfig{}, 1},
		{"Domain on both sides", flaskCfg{ServerName: appHost}, sessions.SessionConfig{Domain: appHost}, 1},
	} {
		py, goSrv, b := flaskPair(t, tc.fc, tc.gc)
		b.ok("POST", py.base+"/login/7")
		b.ok("POST", goSrv.base+"/go/set/go/1")
		assert.Len(t, b.cookies(py.base, "session"), tc.want, "%s: session cookies in the browser", tc.name)
		if tc.want == 1 {
			b.ok("POST", goSrv.base+"/go/logout")
			assert.Nil(t, b.ok("GET", py.base+"/whoami")["user"], "%s: Flask still logged in after the Go Logout", tc.name)
			assert.Empty(t, b.cookies(py.base, "session"), tc.name)
		}
	}
}
