// Package e2e drives the demo application in a real headless Chromium and
// checks what the browser itself did with the session cookie: stored it with
// the attributes we sent, sent it back, and deleted it on logout.
//
// The test builds cmd/sessiondemo and cmd/sessionctl from this repository
// and runs them as a user would. It needs Debian's chromium at
// /usr/bin/chromium (CHROMIUM overrides the path); a missing browser fails
// the test.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	demoKey    = "e2e-0123456789abcdef0123456789abcdef"
	cookieName = "session"
)

// repoRoot is the repository, one level up from this module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return root
}

// build compiles a command of the repository into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot(t)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, b)
	return out
}

// startDemo runs the demo on a free port and returns its base URL.
func startDemo(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SESSION_SECRET_KEY="+demoKey)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			go io.Copy(io.Discard, stdout)
			return strings.TrimSuffix(rest, "/")
		}
	}
	require.Fail(t, "demo exited before listening", "stderr: %s", stderr.String())
	return ""
}

// chromiumPath is the browser the test drives.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// newBrowser starts headless Chromium with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	_, err := os.Stat(path)
	require.NoError(t, err, "Chromium not found at %s (install Debian's chromium package)", path)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 700),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(bctx), "starting Chromium") // starts the browser
	return bctx
}

// newProfile opens a tab in a new browser context of the browser of ctx: a
// second "device" with its own cookies.
func newProfile(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	pctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(pctx), "opening a browser context")
	return pctx
}

// login logs in through the form and waits for the logged-in page.
func login(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	do(t, ctx, "log in as "+name,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
	require.Equal(t, name, text(t, ctx, "#user"), "logged in as")
}

// setUserAgent makes the tab of ctx send ua, so that two devices can be
// told apart on the "Your sessions" page.
func setUserAgent(t *testing.T, ctx context.Context, ua string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
	require.NoError(t, err, "Emulation.setUserAgentOverride")
}

// sessionCookie returns the browser's stored session cookie for base, or nil.
func sessionCookie(t *testing.T, ctx context.Context, base string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	require.NoError(t, err, "Network.getCookies")
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))), "waiting for %s", css)
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, "text of %s", css)
	return strings.TrimSpace(s)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...), what)
}

// TestBrowserLoginLogout is the demo's click path in a real browser.
func TestBrowserLoginLogout(t *testing.T) {
	bin := t.TempDir()
	demo := build(t, bin, "./cmd/sessiondemo")
	ctl := build(t, bin, "./cmd/sessionctl")
	base := startDemo(t, demo)
	ctx := newBrowser(t)

	// Anonymous: the login form, and no cookie.
	do(t, ctx, "open home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	require.Nil(t, sessionCookie(t, ctx, base), "anonymous visit stored a cookie")

	// Log in through the form, with "Keep me signed in".
	do(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
		chromedp.Click(chromedp.CSS("#remember")),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
	assert.Equal(t, "alice", text(t, ctx, "#user"), "logged-in name")
	assert.Equal(t, "Welcome, alice! You are logged in.", text(t, ctx, ".flash"), "flash")

	// The cookie as the browser stored it.
	c := sessionCookie(t, ctx, base)
	require.NotNil(t, c, "no session cookie stored after login")
	assert.True(t, c.HTTPOnly, "cookie stored without HttpOnly")
	assert.Equal(t, network.CookieSameSiteLax, c.SameSite, "cookie SameSite")
	assert.Equal(t, "/", c.Path, "cookie Path")
	assert.False(t, c.Secure, "cookie stored as Secure on plain HTTP")
	assert.False(t, c.Session, "remembered cookie stored as a browser-session cookie; want Max-Age")
	exp := time.Unix(int64(c.Expires), 0)
	assert.WithinRange(t, exp, time.Now().Add(13*24*time.Hour), time.Now().Add(15*24*time.Hour),
		"cookie expires; want about 14 days from now")
	// JavaScript cannot read an HttpOnly cookie.
	js, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	assert.NotContains(t, js, cookieName+"=", "document.cookie exposes the session")

	// The screenshot of the logged-in page, a CI artifact.
	screenshot(t, ctx, "e2e-logged-in.png")

	// sessionctl reads the browser's cookie.
	out := sessionctl(t, ctl, "decode", c.Value)
	for _, want := range []string{"format:   itsdangerous", "verified: NO", "user:     alice"} {
		assert.Contains(t, out, want, "sessionctl decode output")
	}
	out = sessionctl(t, ctl, "verify", "--key", demoKey, c.Value)
	for _, want := range []string{"verified: YES", "user:     alice"} {
		assert.Contains(t, out, want, "sessionctl verify output")
	}

	// Reload: still logged in, the flash gone.
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#user")))
	assert.Equal(t, "alice", text(t, ctx, "#user"), "after reload: name")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".flash").length`))
	if assert.NoError(t, err) {
		assert.Zero(t, n, "after reload: flash messages")
	}

	// The counter counts across pages.
	do(t, ctx, "counter", chromedp.Navigate(base+"/counter"))
	assert.Equal(t, "1", text(t, ctx, "#visits"), "first counter visit")
	do(t, ctx, "counter again", chromedp.Reload())
	assert.Equal(t, "2", text(t, ctx, "#visits"), "second counter visit")
	do(t, ctx, "session page", chromedp.Navigate(base+"/session"))
	assert.Equal(t, "alice", text(t, ctx, "#session-user"), "session page user")
	assert.Contains(t, text(t, ctx, "#values"), `"visits": 2`, "session page values")
	screenshot(t, ctx, "e2e-session.png")

	// Log out: the message, the form, and the cookie deleted.
	do(t, ctx, "home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#logout")))
	do(t, ctx, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#name")))
	assert.Equal(t, "You are logged out.", text(t, ctx, ".flash"), "flash after logout")
	assert.Nil(t, sessionCookie(t, ctx, base), "cookie still stored after logout")
	// And the old cookie's page really is anonymous now.
	do(t, ctx, "reload after logout", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#name")))
	assert.Equal(t, "not signed in", text(t, ctx, ".who"), "header after logout")
}

// screenshot saves the page as artifacts/name, a PNG.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot")
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "screenshot %s is not a PNG", name)
	path := filepath.Join(repoRoot(t), "artifacts", name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, png, 0o644))
}

func sessionctl(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "sessionctl %s: %s", args[0], stderr.String())
	return stdout.String()
}

// TestBrowserLogoutEverywhere logs one user in on two "devices" (browser
// contexts with separate cookies) against server-side sessions, and ends
// both from one with the "Log out everywhere" button.
func TestBrowserLogoutEverywhere(t *testing.T) {
	bin := t.TempDir()
	demo := build(t, bin, "./cmd/sessiondemo")
	ctl := build(t, bin, "./cmd/sessionctl")
	base := startDemo(t, demo, "-store", "memory")
	laptop := newBrowser(t)
	phone := newProfile(t, laptop)

	login(t, laptop, base, "bob")
	login(t, phone, base, "bob")
	lc, pc := sessionCookie(t, laptop, base), sessionCookie(t, phone, base)
	require.NotNil(t, lc, "laptop session cookie")
	require.NotNil(t, pc, "phone session cookie")
	require.NotEqual(t, lc.Value, pc.Value, "want two different session cookies")
	// In store mode the cookie holds only a signed session id.
	out := sessionctl(t, ctl, "decode", lc.Value)
	assert.Contains(t, out, "server-side session id", "sessionctl decode of a store-mode cookie")
	assert.NotContains(t, out, "bob", "sessionctl decode of a store-mode cookie")

	do(t, laptop, "log out everywhere",
		chromedp.Click(chromedp.CSS("#logout-everywhere")),
		chromedp.WaitVisible(chromedp.CSS("#name")),
	)
	assert.Equal(t, "You are logged out on every device.", text(t, laptop, ".flash"), "flash after log out everywhere")
	assert.Nil(t, sessionCookie(t, laptop, base), "laptop still stores a cookie")
	do(t, phone, "phone reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#name")))
	assert.Equal(t, "not signed in", text(t, phone, ".who"), "phone header after log out everywhere")
}

// TestBrowserYourSessions logs one user in on two devices against
// server-side sessions, lists them on "Your sessions" (each browser, this
// device marked), ends the other with its End button, and reloads it: it
// is logged out. The phone logs in without "Keep me signed in", so its
// cookie ends with the browser.
func TestBrowserYourSessions(t *testing.T) {
	bin := t.TempDir()
	demo := build(t, bin, "./cmd/sessiondemo")
	base := startDemo(t, demo, "-store", "memory")
	laptop := newBrowser(t)
	phone := newProfile(t, laptop)
	setUserAgent(t, laptop, "Mozilla/5.0 (X11; Linux x86_64) LaptopChromium/1.0")
	setUserAgent(t, phone, "Mozilla/5.0 (Linux; Android 14) PhoneChromium/2.0")

	do(t, laptop, "laptop logs in, remembered",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "carol"),
		chromedp.Click(chromedp.CSS("#remember")),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
	login(t, phone, base, "carol")
	lc, pc := sessionCookie(t, laptop, base), sessionCookie(t, phone, base)
	require.NotNil(t, lc, "laptop cookie")
	require.NotNil(t, pc, "phone cookie")
	assert.False(t, lc.Session, "Keep me signed in: want a persistent cookie")
	assert.True(t, pc.Session, "without Keep me signed in: want a browser-session cookie")

	do(t, laptop, "open Your sessions",
		chromedp.Click(chromedp.CSS("#nav-sessions")),
		chromedp.WaitVisible(chromedp.CSS("#devices")),
	)
	rows, err := chromedp.Run(laptop, chromedp.Evaluate[int](`document.querySelectorAll("#devices tr.device").length`))
	require.NoError(t, err)
	assert.Equal(t, 2, rows, "sessions listed")
	assert.Contains(t, text(t, laptop, "#devices tr.current .ua"), "LaptopChromium/1.0", "this device's browser")
	assert.Equal(t, "this device", text(t, laptop, "#devices tr.current .here"))
	assert.Contains(t, text(t, laptop, "#devices tr.device:not(.current) .ua"), "PhoneChromium/2.0", "the other device's browser")
	screenshot(t, laptop, "e2e-sessions.png")

	do(t, laptop, "end the phone's session",
		chromedp.Click(chromedp.CSS("#devices tr.device:not(.current) button.end")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	assert.Equal(t, "That session has been ended.", text(t, laptop, ".flash"))
	rows, err = chromedp.Run(laptop, chromedp.Evaluate[int](`document.querySelectorAll("#devices tr.device").length`))
	require.NoError(t, err)
	assert.Equal(t, 1, rows, "sessions listed after End")

	do(t, phone, "phone reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".who")))
	assert.Equal(t, "not signed in", text(t, phone, ".who"), "the ended device is logged out")
	do(t, laptop, "laptop home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#user")))
	assert.Equal(t, "carol", text(t, laptop, "#user"), "this device is still signed in")
}
