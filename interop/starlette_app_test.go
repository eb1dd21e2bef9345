package interop

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessions "github.com/ctxsession/sessions"
)

// These tests run a real Starlette app served by uvicorn
// (testdata/peers/starlette_app.py) and a real Go server with
// FormatStarlette, on two ports, with one client going back and forth.

const starletteApp = "testdata/peers/starlette_app.py"

func starlettePair(t *testing.T) (*peerServer, *goServer, *browser) {
	t.Helper()
	py := startPeer(t, debianPython, starletteApp, map[string]any{"secret": testKey})
	return py, startGo(t, newGo(t, sessions.SessionConfig{Format: sessions.FormatStarlette}), goApp(t)), newBrowser(t)
}

// Values and logins both ways, through the servers.
func TestStarletteUvicornRoundTrip(t *testing.T) {
	t.Parallel()
	py, goSrv, b := starlettePair(t)
	b.ok("POST", goSrv.base+"/go/login/ann")
	b.ok("POST", py.base+"/set/lang/de")
	b.ok("POST", goSrv.base+"/go/set/n/1")
	assert.Equal(t, "de", sessionOf(t, b.ok("GET", py.base+"/session"))["lang"])
	b.ok("POST", py.base+"/set/m/2")
	who := b.ok("GET", goSrv.base+"/go/whoami")
	assert.Equal(t, "ann", who["user"])
	assert.Subset(t, who["keys"], []any{"m", "n"})
}

// Starlette writes whatever the session holds; a client that is not a
// browser keeps a 4.8 KB cookie, and Go reads it (up to
// MaxCookieReadSize), where it used to reject everything over 4096 bytes.
func TestStarletteLargeCookieReadByGo(t *testing.T) {
	t.Parallel()
	py, goSrv, b := starlettePair(t)
	b.ok("POST", py.base+"/big/3500")
	got := b.cookies(py.base, "session")
	require.Len(t, got, 1)
	size := len("session") + len(got[0])
	require.Greater(t, size, sessions.MaxCookieSize)
	require.LessOrEqual(t, size, sessions.MaxCookieReadSize)
	t.Logf("Starlette cookie: %d bytes", size)
	assert.Contains(t, b.ok("GET", goSrv.base+"/go/whoami")["keys"], "big", "Go rejected Starlette's %d-byte cookie", size)
}

func sessionOf(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	s, ok := body["session"].(map[string]any)
	require.True(t, ok, "no session in %v", body)
	return s
}
