package main

import (
	"bytes"
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "0123456789abcdef0123456789abcdef-demo-test"

// testRedis is the real Redis server the tests use (CI starts it).
const (
	testRedis    = "redis://127.0.0.1:6379/3"
	testPostgres = "postgres://postgres@127.0.0.1:5432/test"
	testMySQL    = "mysql://root@127.0.0.1:3306/test"
)

// uniqueName returns a user name no earlier run used, so that sessions a
// failed run left in a shared store do not count.
func uniqueName(prefix string) string {
	return prefix + " " + strconv.FormatUint(rand.Uint64(), 36)
}

// browser is a client with a cookie jar, as a user's browser.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	ua   string // the User-Agent sent, if set
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

// do sends a request (following redirects) and returns the final body,
// which must come with status 200.
func (b *browser) do(method, path string, form url.Values) string {
	b.t.Helper()
	code, out := b.send(method, path, form)
	require.Equal(b.t, http.StatusOK, code, "%s %s: status, body %s", method, path, out)
	return out
}

// send sends a request (following redirects) and returns the final status
// and body.
func (b *browser) send(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(out)
}

func (b *browser) cookie() *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessions.DefaultCookieName {
			return c
		}
	}
	return nil
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		assert.Contains(t, body, w, what)
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		assert.NotContains(t, body, w, what)
	}
}

func newServer(t *testing.T, o options) *httptest.Server {
	t.Helper()
	if o.key == "" {
		o.key = testKey
	}
	if o.format == "" {
		o.format = "itsdangerous"
	}
	a, closeStore, err := build(context.Background(), o)
	require.NoError(t, err)
	srv := httptest.NewServer(a.handler())
	t.Cleanup(func() { srv.Close(); closeStore() })
	return srv
}

// TestClickPath walks the demo as a user would, in every session mode.
func TestClickPath(t *testing.T) {
	modes := []struct {
		name  string
		o     options
		store bool
	}{
		{name: "cookie", o: options{}},
		{name: "memory", o: options{store: "memory"}, store: true},
		{name: "dir", o: options{store: t.TempDir()}, store: true},
		{name: "redis", o: options{store: testRedis}, store: true},
	}
	for _, f := range strings.Split(formatNames(), ", ") {
		if f != "itsdangerous" {
			modes = append(modes, struct {
				name  string
				o     options
				store bool
			}{name: "cookie-" + f, o: options{format: f}})
		}
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := newServer(t, mode.o)
			b := newBrowser(t, srv.URL)
			name := uniqueName("Zoë <script>")
			esc := html.EscapeString(name)

			home := b.do("GET", "/", nil)
			mustContain(t, "anonymous home", home, `action="/login"`, "not signed in")
			require.Nil(t, b.cookie(), "anonymous home page set a cookie")

			mustContain(t, "counter", b.do("GET", "/counter", nil), `id="visits">1<`)
			mustContain(t, "counter", b.do("GET", "/counter", nil), `id="visits">2<`)

			home = b.do("POST", "/login", url.Values{"name": {name}})
			mustContain(t, "home after login", home,
				"Welcome, "+esc+"! You are logged in.",
				`<strong id="user">`+esc+`</strong>`, `action="/logout"`)
			mustNotContain(t, "home after login", home, "<script>", `action="/login"`)
			assert.Equal(t, mode.store, strings.Contains(home, "logout-everywhere"), "log out everywhere offered")
			require.NotNil(t, b.cookie(), "no session cookie after login")

			// The flash is shown once; the login dropped the anonymous counter.
			home = b.do("GET", "/", nil)
			mustNotContain(t, "home reloaded", home, "Welcome")
			mustContain(t, "home reloaded", home, `id="user">`+esc+`<`)
			mustContain(t, "counter after login", b.do("GET", "/counter", nil), `id="visits">1<`)

			sess := b.do("GET", "/session", nil)
			mustContain(t, "session page", sess, `id="session-user">`+esc+`<`, "&#34;visits&#34;: 1")
			mustContain(t, "session page text", html.UnescapeString(sess), b.cookie().Value)
			if mode.store {
				mustContain(t, "session page", sess, "a signed session id only", `<dt>Sessions of this user</dt><dd><a href="/sessions">1</a></dd>`)
			}

			home = b.do("POST", "/logout", nil)
			mustContain(t, "home after logout", home, "You are logged out.", `action="/login"`, "not signed in")
			assert.Nil(t, b.cookie(), "cookie still stored after logout")
		})
	}
}

// TestLogoutEverywhere logs one user in twice and ends both sessions from
// one, in every store.
func TestLogoutEverywhere(t *testing.T) {
	for _, store := range []string{"memory", t.TempDir(), testRedis, testPostgres, testMySQL, "sqlite:" + t.TempDir() + "/s.db"} {
		t.Run(store, func(t *testing.T) {
			srv := newServer(t, options{store: store})
			laptop, phone, other := newBrowser(t, srv.URL), newBrowser(t, srv.URL), newBrowser(t, srv.URL)
			name := uniqueName("dana")
			laptop.do("POST", "/login", url.Values{"name": {name}})
			phone.do("POST", "/login", url.Values{"name": {name}})
			other.do("POST", "/login", url.Values{"name": {name + "x"}})
			mustContain(t, "session page", phone.do("GET", "/session", nil), `<dt>Sessions of this user</dt><dd><a href="/sessions">2</a></dd>`)

			home := laptop.do("POST", "/logout-everywhere", nil)
			mustContain(t, "laptop after logout everywhere", home, "You are logged out on every device.", "not signed in")
			mustContain(t, "phone after logout everywhere", phone.do("GET", "/", nil), "not signed in", `action="/login"`)
			mustContain(t, "another user", other.do("GET", "/", nil), `id="user">`+name+"x<")
			other.do("POST", "/logout", nil) // leave nothing in a shared store
		})
	}
}

func TestLogoutEverywhereAnonymous(t *testing.T) {
	srv := newServer(t, options{store: "memory"})
	b := newBrowser(t, srv.URL)
	mustContain(t, "home", b.do("POST", "/logout-everywhere", nil), "not signed in")
	assert.Nil(t, b.cookie(), "anonymous logout-everywhere set a cookie")
}

func TestLoginBadNames(t *testing.T) {
	srv := newServer(t, options{})
	tests := []struct {
		name, input, want string
	}{
		{"empty", "", "Please enter a name."},
		{"spaces", "   ", "Please enter a name."},
		{"too long", strings.Repeat("x", maxName+1), "That name is too long."},
		{"invalid UTF-8", "\xff\xfe", "That name is not valid text."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv.URL)
			home := b.do("POST", "/login", url.Values{"name": {tt.input}})
			mustContain(t, "home", home, `class="flash error"`, tt.want, "not signed in")
			// The flash was shown, so the session is empty and the cookie gone.
			assert.Nil(t, b.cookie(), "cookie left after a failed login")
		})
	}
	t.Run("longest name", func(t *testing.T) {
		b := newBrowser(t, srv.URL)
		name := strings.Repeat("é", maxName)
		mustContain(t, "home", b.do("POST", "/login", url.Values{"name": {name}}), `id="user">`+name+"<")
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	srv := newServer(t, options{})
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader("name=mallory"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "cross-site login: status")
	assert.Empty(t, resp.Cookies(), "cross-site login set cookies")
}

func TestTamperedCookie(t *testing.T) {
	srv := newServer(t, options{})
	b := newBrowser(t, srv.URL)
	b.do("POST", "/login", url.Values{"name": {"erin"}})
	c := b.cookie()
	require.NotNil(t, c, "no session cookie after login")
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	c.Value = strings.Replace(c.Value, "e", "f", 1)
	b.c.Jar.SetCookies(u, []*http.Cookie{c})
	mustContain(t, "home with a tampered cookie", b.do("GET", "/", nil), "not signed in")
}

// TestRun starts the command as main does and checks its output, and that
// bad flags fail with a clear message.
func TestRun(t *testing.T) {
	env := func(k string) string { return "" }
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		code   int
		stderr string
	}{
		{"bad flag", []string{"-nope"}, env, 2, "flag provided but not defined: -nope"},
		{"extra argument", []string{"serve"}, env, 2, `unexpected argument "serve"`},
		{"weak key", []string{"-key", "short"}, env, 2, "shorter than 32 bytes"},
		{"weak env key", nil, func(string) string { return "short" }, 2, "shorter than 32 bytes"},
		{"unknown format", []string{"-format", "pickle"}, env, 2, "-format:"},
		{"unknown store URL", []string{"-store", "mongodb://x"}, env, 2, `want "memory"`},
		{"redis URL without host", []string{"-store", "redis://:x"}, env, 2, "-store:"},
		{"redis not answering", []string{"-store", "redis://127.0.0.1:1/0"}, env, 2, "-store: redis at 127.0.0.1:1:"},
		{"store dir is a file", []string{"-store", "dir:/dev/null/sessions"}, env, 2, "-store: filestore:"},
		{"mistyped memory", []string{"-store", "memroy"}, env, 2, `-store: "memroy" is not a store: want "memory", "dir:PATH"`},
		{"dir: without a path", []string{"-store", "dir:"}, env, 2, `"dir:" needs a path`},
		{"sqlite: without a path", []string{"-store", "sqlite:"}, env, 2, `"sqlite:" needs a path`},
		{"postgres not answering", []string{"-store", "postgres://postgres@127.0.0.1:1/test"}, env, 2, "-store: postgres at 127.0.0.1:"},
		{"bad address", []string{"-addr", "127.0.0.1:99999"}, env, 1, "sessiondemo:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb, tt.getenv)
			assert.Equal(t, tt.code, code, "exit code; stderr %q", errb.String())
			assert.Contains(t, errb.String(), tt.stderr, "stderr")
		})
	}

	t.Run("serves until cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan int)
		go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out, io.Discard, env) }()
		addr := out.waitFor(t, "listening on ")
		resp, err := http.Get(addr)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /: status")
		cancel()
		assert.Equal(t, 0, <-done, "exit code after cancel")
		mustContain(t, "stdout", out.String(), "secret key (generated for this run", "format itsdangerous")
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls the output until a line starting with prefix appears and
// returns the rest of that line.
func (b *syncBuffer) waitFor(t *testing.T, prefix string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(b.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest
			}
		}
	}
	require.Fail(t, "no such line in the output", "prefix %q, output %q", prefix, b.String())
	return ""
}

// flakyStore is a memstore whose deletions can be made to fail.
type flakyStore struct {
	*memstore.Store
	failDelete, failDeleteUser atomic.Bool
}

var errDisk = errors.New("disk on fire")

func (s *flakyStore) Delete(ctx context.Context, id string) error {
	if s.failDelete.Load() {
		return errDisk
	}
	return s.Store.Delete(ctx, id)
}

func (s *flakyStore) DeleteUser(ctx context.Context, user string) error {
	if s.failDeleteUser.Load() {
		return errDisk
	}
	return s.Store.DeleteUser(ctx, user)
}

// plainStore hides the UserStore methods: DestroyUser is not supported.
type plainStore struct{ sessions.Store }

func newStoreServer(t *testing.T, st sessions.Store) *httptest.Server {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: testKey,
		Store:     st,
		Logger:    slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(newApp(m, sessions.DefaultCookieName, "test", "itsdangerous", true).handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestStoreFailures: a failed logout says so and leaves the user logged in;
// a failed "log out everywhere" still logs out here and says what failed.
func TestStoreFailures(t *testing.T) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &flakyStore{Store: mem}
	srv := newStoreServer(t, st)

	b := newBrowser(t, srv.URL)
	b.do("POST", "/login", url.Values{"name": {"frank"}})
	st.failDelete.Store(true)
	// The middleware's error handler (or fail) answers 500.
	code, body := b.send("POST", "/logout", nil)
	assert.Equal(t, http.StatusInternalServerError, code, "logout with a failing store: status; body %q", body)
	st.failDelete.Store(false)
	mustContain(t, "home after the failed logout", b.do("GET", "/", nil), `id="user">frank<`)

	st.failDeleteUser.Store(true)
	home := b.do("POST", "/logout-everywhere", nil)
	mustContain(t, "home after a failed log out everywhere", home,
		"You are logged out here, but your other sessions could not be ended.", "not signed in")
	mustNotContain(t, "home", home, errDisk.Error())

	t.Run("not a UserStore", func(t *testing.T) {
		srv := newStoreServer(t, plainStore{mem})
		b := newBrowser(t, srv.URL)
		b.do("POST", "/login", url.Values{"name": {"gina"}})
		mustContain(t, "home", b.do("POST", "/logout-everywhere", nil),
			"this configuration cannot end other sessions.", "not signed in")
	})
}

// TestStoreTypoCreatesNothing: a mistyped -store is an error that lists the
// valid forms, and no directory appears; "dir:" creates one.
func TestStoreTypoCreatesNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	_, _, err := build(context.Background(), options{key: testKey, format: "itsdangerous", store: "memroy"})
	require.Error(t, err)
	for _, want := range []string{`"memory"`, `"dir:PATH"`, "existing directory", "redis://"} {
		assert.Contains(t, err.Error(), want)
	}
	_, statErr := os.Stat("memroy")
	assert.True(t, os.IsNotExist(statErr), "a directory was created for the typo")

	a, closeStore, err := build(context.Background(), options{key: testKey, format: "itsdangerous", store: "dir:new-sessions"})
	require.NoError(t, err)
	defer closeStore()
	assert.True(t, a.store)
	fi, err := os.Stat("new-sessions")
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
}

// TestSessionPageAnonymous: no user, so no count of the user's sessions
// (and never "-1").
func TestSessionPageAnonymous(t *testing.T) {
	for _, store := range []string{"", "memory"} {
		srv := newServer(t, options{store: store})
		b := newBrowser(t, srv.URL)
		b.do("GET", "/counter", nil)
		page := b.do("GET", "/session", nil)
		mustNotContain(t, "anonymous session page", page, "Sessions of this user", ">-1<", "Your sessions")
		mustContain(t, "anonymous session page", page, "(anonymous)")
	}
}

// TestSessionPageEncrypted: an encrypted cookie is described as such, with
// no decode hint (nothing can be read without the key).
func TestSessionPageEncrypted(t *testing.T) {
	srv := newServer(t, options{format: "encrypted"})
	b := newBrowser(t, srv.URL)
	b.do("GET", "/counter", nil)
	page := b.do("GET", "/session", nil)
	mustContain(t, "encrypted session page", page, "encrypted and signed", "Sessions: encrypted cookies")
	mustNotContain(t, "encrypted session page", page, "the values above, signed.", "sessionctl decode", "signed cookies")
}

// TestRememberMeCheckbox: "Keep me signed in" gives a persistent cookie;
// without it the cookie ends with the browser.
func TestRememberMeCheckbox(t *testing.T) {
	for _, store := range []string{"", "memory"} {
		srv := newServer(t, options{store: store})
		mustContain(t, "login form", newBrowser(t, srv.URL).do("GET", "/", nil), `name="remember"`, "Keep me signed in")
		for _, remember := range []bool{true, false} {
			form := url.Values{"name": {"rita"}}
			if remember {
				form.Set("remember", "on")
			}
			req, err := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultTransport.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			var c *http.Cookie
			for _, sc := range resp.Cookies() {
				if sc.Name == sessions.DefaultCookieName {
					c = sc
				}
			}
			require.NotNil(t, c, "store %q remember %v: no cookie", store, remember)
			assert.Equal(t, remember, c.MaxAge > 0, "store %q remember %v: Max-Age %d", store, remember, c.MaxAge)
		}
	}
}

// TestYourSessions lists the user's devices with their browsers, marks
// this one, and ends another with its End button; another user's session
// cannot be ended.
func TestYourSessions(t *testing.T) {
	for _, store := range []string{"memory", t.TempDir(), testRedis} {
		t.Run(store, func(t *testing.T) {
			srv := newServer(t, options{store: store})
			name := uniqueName("sam")
			laptop, phone, other := newBrowser(t, srv.URL), newBrowser(t, srv.URL), newBrowser(t, srv.URL)
			laptop.ua, phone.ua = "LaptopBrowser/1.0", "PhoneBrowser/2.0"
			laptop.do("POST", "/login", url.Values{"name": {name}})
			phone.do("POST", "/login", url.Values{"name": {name}})
			other.do("POST", "/login", url.Values{"name": {name + "x"}})
			t.Cleanup(func() {
				for _, b := range []*browser{laptop, phone, other} {
					b.send("POST", "/logout", nil)
				}
			})

			page := laptop.do("GET", "/sessions", nil)
			mustContain(t, "your sessions", page, "LaptopBrowser/1.0", "PhoneBrowser/2.0", "this device", `action="/sessions/end"`)
			assert.Equal(t, 1, strings.Count(page, `class="end"`), "one End button: the other device")
			assert.Equal(t, 1, strings.Count(page, "this device"))
			mustNotContain(t, "your sessions", page, name+"x")

			// Another user's session id is refused.
			otherPage := other.do("GET", "/sessions", nil)
			require.Equal(t, 0, strings.Count(otherPage, `class="end"`))
			otherID := hiddenIDs(page)
			require.Len(t, otherID, 1)
			mustContain(t, "foreign end", other.do("POST", "/sessions/end", url.Values{"id": otherID}), "That session had already ended.")
			mustContain(t, "phone still in", phone.do("GET", "/", nil), `id="user">`)

			page = laptop.do("POST", "/sessions/end", url.Values{"id": otherID})
			mustContain(t, "after End", page, "That session has been ended.", "LaptopBrowser/1.0")
			mustNotContain(t, "after End", page, "PhoneBrowser/2.0")
			mustContain(t, "phone after End", phone.do("GET", "/", nil), "not signed in")
			mustContain(t, "laptop after End", laptop.do("GET", "/", nil), `id="user">`)
		})
	}
	// Anonymous visitors are sent home; cookie mode explains.
	srv := newServer(t, options{})
	b := newBrowser(t, srv.URL)
	mustContain(t, "anonymous", b.do("GET", "/sessions", nil), `action="/login"`)
	b.do("POST", "/login", url.Values{"name": {"cora"}})
	mustContain(t, "cookie mode", b.do("GET", "/sessions", nil), "keep no list")
}

// hiddenIDs returns the session ids of a sessions page's End buttons.
func hiddenIDs(page string) []string {
	var ids []string
	for _, part := range strings.Split(page, `name="id" value="`)[1:] {
		id, _, _ := strings.Cut(part, `"`)
		ids = append(ids, id)
	}
	return ids
}
