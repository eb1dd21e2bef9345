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

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const (
	demoKey    = "e2e-0123456789abcdef0123456789abcdef"
	cookieName = "session"
)

// repoRoot is the repository, one level up from this module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// build compiles a command of the repository into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// startDemo runs the demo on a free port and returns its base URL.
func startDemo(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SESSION_SECRET_KEY="+demoKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	t.Fatalf("demo exited before listening; stderr: %s", stderr.String())
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
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium not found at %s (install Debian's chromium package): %v", path, err)
	}
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
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return bctx
}

// newProfile opens a tab in a new browser context of the browser of ctx: a
// second "device" with its own cookies.
func newProfile(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	pctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(pctx); err != nil {
		t.Fatalf("opening a browser context: %v", err)
	}
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
	if got := text(t, ctx, "#user"); got != name {
		t.Fatalf("logged in as %q, want %q", got, name)
	}
}

// sessionCookie returns the browser's stored session cookie for base, or nil.
func sessionCookie(t *testing.T, ctx context.Context, base string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatalf("Network.getCookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		t.Fatalf("waiting for %s: %v", css, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
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
	if c := sessionCookie(t, ctx, base); c != nil {
		t.Fatalf("anonymous visit stored a cookie: %+v", c)
	}

	// Log in through the form.
	do(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
	if got := text(t, ctx, "#user"); got != "alice" {
		t.Errorf("logged-in name %q, want alice", got)
	}
	if got := text(t, ctx, ".flash"); got != "Welcome, alice! You are logged in." {
		t.Errorf("flash %q, want the welcome message", got)
	}

	// The cookie as the browser stored it.
	c := sessionCookie(t, ctx, base)
	if c == nil {
		t.Fatal("no session cookie stored after login")
	}
	if !c.HTTPOnly {
		t.Error("cookie stored without HttpOnly")
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("cookie SameSite %q, want Lax", c.SameSite)
	}
	if c.Path != "/" {
		t.Errorf("cookie Path %q, want /", c.Path)
	}
	if c.Secure {
		t.Error("cookie stored as Secure on plain HTTP")
	}
	if c.Session {
		t.Error("cookie stored as a browser-session cookie; want Max-Age")
	}
	if exp := time.Unix(int64(c.Expires), 0); time.Until(exp) < 13*24*time.Hour || time.Until(exp) > 15*24*time.Hour {
		t.Errorf("cookie expires %v, want about 14 days from now", exp)
	}
	// JavaScript cannot read an HttpOnly cookie.
	js, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js, cookieName+"=") {
		t.Errorf("document.cookie exposes the session: %q", js)
	}

	// The screenshot of the logged-in page, a CI artifact.
	screenshot(t, ctx, "e2e-logged-in.png")

	// sessionctl reads the browser's cookie.
	out := sessionctl(t, ctl, "decode", c.Value)
	for _, want := range []string{"format:   itsdangerous", "verified: NO", "user:     alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("sessionctl decode output lacks %q:\n%s", want, out)
		}
	}
	out = sessionctl(t, ctl, "verify", "--key", demoKey, c.Value)
	for _, want := range []string{"verified: YES", "user:     alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("sessionctl verify output lacks %q:\n%s", want, out)
		}
	}

	// Reload: still logged in, the flash gone.
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#user")))
	if got := text(t, ctx, "#user"); got != "alice" {
		t.Errorf("after reload: name %q, want alice", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".flash").length`)); err != nil || n != 0 {
		t.Errorf("after reload: %d flash messages (err %v), want 0", n, err)
	}

	// The counter counts across pages.
	do(t, ctx, "counter", chromedp.Navigate(base+"/counter"))
	if got := text(t, ctx, "#visits"); got != "1" {
		t.Errorf("first counter visit shows %q, want 1", got)
	}
	do(t, ctx, "counter again", chromedp.Reload())
	if got := text(t, ctx, "#visits"); got != "2" {
		t.Errorf("second counter visit shows %q, want 2", got)
	}
	do(t, ctx, "session page", chromedp.Navigate(base+"/session"))
	if got := text(t, ctx, "#session-user"); got != "alice" {
		t.Errorf("session page user %q, want alice", got)
	}
	if got := text(t, ctx, "#values"); !strings.Contains(got, `"visits": 2`) {
		t.Errorf("session page values %q, want visits 2", got)
	}
	screenshot(t, ctx, "e2e-session.png")

	// Log out: the message, the form, and the cookie deleted.
	do(t, ctx, "home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#logout")))
	do(t, ctx, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#name")))
	if got := text(t, ctx, ".flash"); got != "You are logged out." {
		t.Errorf("flash after logout %q", got)
	}
	if c := sessionCookie(t, ctx, base); c != nil {
		t.Errorf("cookie still stored after logout: %+v", c)
	}
	// And the old cookie's page really is anonymous now.
	do(t, ctx, "reload after logout", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#name")))
	if got := text(t, ctx, ".who"); got != "not signed in" {
		t.Errorf("after logout the header says %q", got)
	}
}

// screenshot saves the page as artifacts/name, a PNG.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join(repoRoot(t), "artifacts", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sessionctl(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sessionctl %s: %v: %s", args[0], err, stderr.String())
	}
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
	if lc == nil || pc == nil || lc.Value == pc.Value {
		t.Fatalf("want two different session cookies, got %+v and %+v", lc, pc)
	}
	// In store mode the cookie holds only a signed session id.
	out := sessionctl(t, ctl, "decode", lc.Value)
	if !strings.Contains(out, "server-side session id") || strings.Contains(out, "bob") {
		t.Errorf("sessionctl decode of a store-mode cookie:\n%s", out)
	}

	do(t, laptop, "log out everywhere",
		chromedp.Click(chromedp.CSS("#logout-everywhere")),
		chromedp.WaitVisible(chromedp.CSS("#name")),
	)
	if got := text(t, laptop, ".flash"); got != "You are logged out on every device." {
		t.Errorf("flash after log out everywhere: %q", got)
	}
	if c := sessionCookie(t, laptop, base); c != nil {
		t.Errorf("laptop still stores a cookie: %+v", c)
	}
	do(t, phone, "phone reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#name")))
	if got := text(t, phone, ".who"); got != "not signed in" {
		t.Errorf("phone after log out everywhere: header says %q", got)
	}
}
