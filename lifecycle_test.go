package sessions_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const lcKey = "lifecycle-test-key-0123456789abcdef-0123"

// lcClock is the middleware's clock in these tests.
type lcClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lcClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lcClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lcApp serves one middleware over real HTTP. Its handler does what the
// query says, in this order: gate=NAME (wait after loading until the test
// opens it), regen, login=USER, remember=1|0, renew, set=K=V, pop=K,
// logout, flash=MSG, flashes, list, destroy=ID, destroyas=USER. It replies
// with an lcState.
type lcApp struct {
	t     *testing.T
	m     *sessions.Middleware
	srv   *httptest.Server
	clock *lcClock
	rs    *memstore.Store // the RevocationStore, if any

	mu    sync.Mutex
	errs  map[string]error // the error each call returned, by action
	gates map[string]*lcGate
}

type lcGate struct{ loaded, release chan struct{} }

// lcState is a response: the session as the request left it.
type lcState struct {
	ID       string                 `json:"id"`
	New      bool                   `json:"new"`
	Expires  int64                  `json:"expires"`
	Created  int64                  `json:"created"`
	User     string                 `json:"user"`
	Values   map[string]any         `json:"values"`
	Popped   string                 `json:"popped"`
	PopOK    bool                   `json:"popOK"`
	Flashes  []sessions.Flash       `json:"flashes"`
	Sessions []sessions.SessionInfo `json:"sessions"`
}

type lcMode struct {
	name   string
	store  func(t *testing.T) sessions.Store // nil: cookie mode
	revoke bool                              // cookie mode with a RevocationStore
}

// lcModes are the modes every lifecycle feature is tested in.
func lcModes() []lcMode {
	return []lcMode{
		{name: "cookie", revoke: true},
		{name: "memstore", store: func(t *testing.T) sessions.Store {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{name: "filestore", store: func(t *testing.T) sessions.Store {
			s, err := filestore.New(t.TempDir())
			require.NoError(t, err)
			return s
		}},
	}
}

func newLCApp(t *testing.T, mode lcMode, cfg sessions.SessionConfig) *lcApp {
	t.Helper()
	a := &lcApp{t: t, clock: &lcClock{t: time.Unix(1_800_000_000, 0)}, errs: map[string]error{}, gates: map[string]*lcGate{}}
	cfg.SecretKey = lcKey
	cfg.Now = a.clock.now
	if mode.store != nil {
		cfg.Store = mode.store(t)
	} else if mode.revoke && cfg.RevocationStore == nil {
		a.rs = memstore.New(memstore.WithClock(a.clock.now))
		t.Cleanup(func() { a.rs.Close() })
		cfg.RevocationStore = a.rs
	}
	var err error
	a.m, err = sessions.New(cfg)
	require.NoError(t, err)
	a.srv = httptest.NewServer(a.m.Handler(http.HandlerFunc(a.serve)))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *lcApp) setErr(action string, err error) {
	a.mu.Lock()
	a.errs[action] = err
	a.mu.Unlock()
}

// err returns the error the last request's action returned.
func (a *lcApp) err(action string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.errs[action]
}

func (a *lcApp) gate(name string) *lcGate {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.gates[name]
	if g == nil {
		g = &lcGate{loaded: make(chan struct{}), release: make(chan struct{})}
		a.gates[name] = g
	}
	return g
}

func (a *lcApp) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	s, err := sessions.GetSession(ctx)
	if err != nil {
		return
	}
	if name := q.Get("gate"); name != "" {
		g := a.gate(name)
		close(g.loaded)
		<-g.release
	}
	var out lcState
	if q.Has("regen") {
		_, err := sessions.RegenerateSession(ctx)
		a.setErr("regen", err)
	}
	if u := q.Get("login"); u != "" {
		a.setErr("login", sessions.Login(ctx, u))
	}
	if v := q.Get("remember"); v != "" {
		a.setErr("remember", sessions.RememberMe(ctx, v == "1"))
	}
	if q.Has("renew") {
		a.setErr("renew", sessions.Renew(ctx))
	}
	for _, kv := range q["set"] {
		k, v, _ := strings.Cut(kv, "=")
		s.Set(k, v)
	}
	if k := q.Get("pop"); k != "" {
		out.Popped, out.PopOK = sessions.Pop[string](s, k)
	}
	if q.Has("logout") {
		a.setErr("logout", sessions.Logout(ctx))
	}
	if f := q.Get("flash"); f != "" {
		s.AddFlash("info", f)
	}
	if q.Has("flashes") {
		out.Flashes = s.Flashes()
	}
	if q.Has("list") {
		infos, err := a.m.UserSessions(ctx, s.UserID())
		a.setErr("list", err)
		out.Sessions = infos
	}
	if id := q.Get("destroy"); id != "" {
		a.setErr("destroy", a.m.DestroySession(ctx, cmpOr(q.Get("destroyas"), s.UserID()), id))
	}
	if !q.Has("noid") {
		out.ID = s.ID()
	}
	out.New, out.User = s.IsNew(), s.UserID()
	out.Expires, out.Created = s.Expires().Unix(), s.Created().Unix()
	out.Values = map[string]any{}
	for _, k := range s.Keys() {
		out.Values[k], _ = s.Get(k)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lcClient is a browser: it keeps the session cookie the server sets.
type lcClient struct {
	a       *lcApp
	ua      string
	cookie  string       // the session cookie value held
	lastSet *http.Cookie // the session Set-Cookie of the last response, or nil
}

func (a *lcApp) client(ua string) *lcClient { return &lcClient{a: a, ua: ua} }

// get sends a request with the query and returns the state.
func (c *lcClient) get(query string) lcState {
	c.a.t.Helper()
	st, code := c.try(query)
	require.Equal(c.a.t, http.StatusOK, code, "GET /?%s", query)
	return st
}

func (c *lcClient) try(query string) (lcState, int) {
	c.a.t.Helper()
	req, err := http.NewRequest("GET", c.a.srv.URL+"/?"+query, nil)
	require.NoError(c.a.t, err)
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", sessions.DefaultCookieName+"="+c.cookie)
	}
	resp, err := c.a.srv.Client().Do(req)
	require.NoError(c.a.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.a.t, err)
	c.lastSet = nil
	for _, line := range resp.Header.Values("Set-Cookie") {
		sc, err := http.ParseSetCookie(line)
		require.NoError(c.a.t, err)
		if sc.Name != sessions.DefaultCookieName {
			continue
		}
		c.lastSet = sc
		c.cookie = sc.Value
		if sc.MaxAge < 0 {
			c.cookie = ""
		}
	}
	var st lcState
	if resp.StatusCode == http.StatusOK {
		require.NoError(c.a.t, json.Unmarshal(body, &st), "body %s", body)
	}
	return st, resp.StatusCode
}

// copyClient is another browser holding the same cookie (a stolen copy).
func (c *lcClient) copyClient() *lcClient {
	return &lcClient{a: c.a, ua: c.ua, cookie: c.cookie}
}

func forModes(t *testing.T, fn func(t *testing.T, mode lcMode)) {
	for _, mode := range lcModes() {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// TestRememberMe: a "keep me signed in" session gets a persistent cookie,
// kept by later writes, while the configuration makes browser-session
// cookies; RememberMe(false) removes it again.
func TestRememberMe(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{BrowserSession: true, MaxAge: time.Hour})
		c := a.client("")
		c.get("login=ann")
		require.NotNil(t, c.lastSet)
		assert.Zero(t, c.lastSet.MaxAge, "BrowserSession: no Max-Age before RememberMe")

		c.get("remember=1")
		require.NoError(t, a.err("remember"))
		require.NotNil(t, c.lastSet, "RememberMe writes the cookie")
		assert.Equal(t, 3600, c.lastSet.MaxAge, "remembered cookie's Max-Age")

		a.clock.add(time.Minute)
		c.get("set=k=v")
		require.NotNil(t, c.lastSet)
		assert.Equal(t, 3600, c.lastSet.MaxAge, "a later write keeps remember-me")
		c.get("")
		assert.Nil(t, c.lastSet, "a read sends no cookie")
		c.get("set=k=w")
		require.NotNil(t, c.lastSet)
		assert.Equal(t, 3600, c.lastSet.MaxAge, "remember-me survives a request that did not touch it")

		c.get("remember=0")
		require.NotNil(t, c.lastSet)
		assert.Zero(t, c.lastSet.MaxAge, "RememberMe(false): a browser-session cookie")
		c.get("set=k=x")
		require.NotNil(t, c.lastSet)
		assert.Zero(t, c.lastSet.MaxAge, "removal is kept by later writes")

		c.get("remember=0")
		assert.Nil(t, c.lastSet, "the same choice again changes nothing")
		st := c.get("")
		assert.Equal(t, "ann", st.User)

		// Login starts a new session without the choice.
		c.get("remember=1")
		c.get("login=ann")
		assert.Zero(t, c.lastSet.MaxAge, "Login drops remember-me")
	})
}

// TestRememberMeFalseOverridesPersistentDefault: without BrowserSession,
// RememberMe(false) makes a browser-session cookie.
func TestRememberMeFalseOverridesPersistentDefault(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{MaxAge: time.Hour})
		c := a.client("")
		c.get("login=ann&remember=0")
		require.NotNil(t, c.lastSet)
		assert.Zero(t, c.lastSet.MaxAge)
		c.get("set=a=1")
		assert.Zero(t, c.lastSet.MaxAge)
		c.get("remember=1")
		assert.Equal(t, 3600, c.lastSet.MaxAge)
	})
}

// TestRememberMeErrors: outside the middleware, and once the headers went
// out.
func TestRememberMeErrors(t *testing.T) {
	require.ErrorIs(t, sessions.RememberMe(context.Background(), true), sessions.ErrNoSession)
	m, err := sessions.New(sessions.SessionConfig{SecretKey: lcKey})
	require.NoError(t, err)
	var late error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		late = sessions.RememberMe(r.Context(), true)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	var lce *sessions.LateChangeError
	require.ErrorAs(t, late, &lce)
	assert.Equal(t, "RememberMe", lce.Call)
}

// TestRememberMeMergedInStoreMode: a RememberMe whose save collides with
// another request's write of the same session is kept by the merge.
func TestRememberMeMergedInStoreMode(t *testing.T) {
	for _, mode := range lcModes()[1:] {
		t.Run(mode.name, func(t *testing.T) {
			a := newLCApp(t, mode, sessions.SessionConfig{BrowserSession: true, MaxAge: time.Hour})
			c := a.client("")
			c.get("login=ann")
			slow := c.copyClient()
			g := a.gate("slow")
			done := make(chan lcState)
			go func() { done <- slow.get("gate=slow&remember=1") }()
			<-g.loaded
			c.get("set=other=1") // writes the record while slow waits
			close(g.release)
			<-done
			require.NoError(t, a.err("remember"))
			assert.Equal(t, 3600, slow.lastSet.MaxAge)
			st := c.get("set=k=v")
			assert.Equal(t, "1", st.Values["other"], "the other request's key survived the merge")
			assert.Equal(t, 3600, c.lastSet.MaxAge, "the merged record kept remember-me")
		})
	}
}

// TestRenew: a new id, the values, user, flashes, remember-me and creation
// time kept, and the old cookie dead.
func TestRenew(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{BrowserSession: true, MaxAge: time.Hour})
		c := a.client("")
		before := c.get("login=ann&remember=1&set=cart=3&flash=hello")
		old := c.copyClient()
		a.clock.add(time.Minute)
		st := c.get("renew")
		require.NoError(t, a.err("renew"))
		assert.NotEqual(t, before.ID, st.ID, "Renew gives a new id")
		assert.NotEmpty(t, st.ID)
		assert.False(t, st.New, "Renew keeps the session: not new")
		assert.Equal(t, "ann", st.User)
		assert.Equal(t, before.Created, st.Created, "the creation time is kept")
		require.NotNil(t, c.lastSet)
		assert.NotEqual(t, old.cookie, c.cookie, "a new cookie")
		assert.Equal(t, 3600, c.lastSet.MaxAge, "remember-me kept")

		next := c.get("flashes")
		assert.Equal(t, st.ID, next.ID, "the new id is stable")
		assert.Equal(t, map[string]any{"cart": "3"}, next.Values)
		assert.Equal(t, []sessions.Flash{{Category: "info", Message: "hello"}}, next.Flashes, "queued flash kept")
		assert.Equal(t, "ann", next.User)

		dead := old.get("")
		assert.Empty(t, dead.User, "the old cookie is dead")
		assert.Empty(t, dead.Values)
		assert.NotEqual(t, before.ID, dead.ID)
	})
}

// TestRenewCookieModeWithoutRevocationStore: the old cookie cannot be
// recalled, as documented; the id changes all the same.
func TestRenewCookieModeWithoutRevocationStore(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{})
	c := a.client("")
	before := c.get("login=ann")
	old := c.copyClient()
	st := c.get("renew")
	require.NoError(t, a.err("renew"))
	assert.NotEqual(t, before.ID, st.ID)
	assert.Equal(t, "ann", old.get("").User, "without a RevocationStore the old cookie still works")
}

// TestRenewErrors: outside the middleware, once the headers went out, and
// a RevocationStore that fails (the session is left as it was).
func TestRenewErrors(t *testing.T) {
	require.ErrorIs(t, sessions.Renew(context.Background()), sessions.ErrNoSession)

	m, err := sessions.New(sessions.SessionConfig{SecretKey: lcKey})
	require.NoError(t, err)
	var late error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("x"))
		late = sessions.Renew(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	require.ErrorIs(t, late, sessions.ErrHeadersWritten)

	rs := &lcFailStore{Store: memstore.New()}
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{RevocationStore: rs})
	c := a.client("")
	before := c.get("login=ann")
	rs.failWrites(true)
	_, code := c.try("renew")
	require.ErrorIs(t, a.err("renew"), sessions.ErrStore)
	assert.Equal(t, http.StatusInternalServerError, code)
	rs.failWrites(false)
	st := c.get("")
	assert.Equal(t, before.ID, st.ID, "a failed Renew changes nothing")
	assert.Equal(t, "ann", st.User)
}

// TestPop reads a value once.
func TestPop(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{})
		c := a.client("")
		c.get("set=token=t1&set=keep=1")
		st := c.get("pop=token")
		assert.True(t, st.PopOK)
		assert.Equal(t, "t1", st.Popped)
		assert.NotContains(t, st.Values, "token", "Pop deletes the key")
		st = c.get("pop=token")
		assert.False(t, st.PopOK, "popped once only")
		assert.Equal(t, map[string]any{"keep": "1"}, st.Values)
	})
	// A value that does not fit T: false, and the key deleted all the same.
	m, err := sessions.New(sessions.SessionConfig{SecretKey: lcKey})
	require.NoError(t, err)
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		require.NoError(t, err)
		s.Set("n", "not a number")
		n, ok := sessions.Pop[int](s, "n")
		assert.False(t, ok)
		assert.Zero(t, n)
		assert.Zero(t, s.Len())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// TestSessionID: stable across requests, never the cookie value, and new
// after Login, Renew, RegenerateSession and Logout.
func TestSessionID(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{})
		c := a.client("")
		first := c.get("set=a=1")
		require.NotEmpty(t, first.ID)
		assert.NotEqual(t, c.cookie, first.ID, "the id is not the cookie")
		if mode.store != nil {
			assert.NotContains(t, c.cookie, first.ID, "store mode: the cookie does not carry the storage key")
		}
		assert.Equal(t, first.ID, c.get("").ID, "stable on a read")
		assert.Equal(t, first.ID, c.get("set=b=2").ID, "stable on a write")

		seen := map[string]bool{first.ID: true}
		for _, step := range []string{"login=ann", "renew", "regen&set=c=3", "login=bob", "logout&flash=bye"} {
			st := c.get(step)
			assert.False(t, seen[st.ID], "%s: want a new id, got an old one", step)
			seen[st.ID] = true
			assert.Equal(t, st.ID, c.get("").ID, "%s: the new id is stable", step)
		}
	})
}

// TestSessionIDOfForeignCookie: a cookie minted elsewhere (no id in its
// metadata) gets an id that is saved, so it stays the same.
func TestSessionIDOfForeignCookie(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{})
	v, err := a.m.Encode(map[string]any{"lang": "de"})
	require.NoError(t, err)
	c := a.client("")
	c.cookie = v
	st := c.get("")
	require.NotEmpty(t, st.ID)
	require.NotNil(t, c.lastSet, "the new id is saved")
	assert.Equal(t, st.ID, c.get("").ID)
	assert.Nil(t, c.lastSet)
}

// TestCookieIDOnlyWhenAsked: in plain cookie mode a session's cookie
// carries an id only once Session.ID was asked for (the cookie stays what
// the Python frameworks write); with a RevocationStore every cookie of a
// logged-in session carries one.
func TestCookieIDOnlyWhenAsked(t *testing.T) {
	payload := func(t *testing.T, cookie string) string {
		t.Helper()
		b64, _, _ := strings.Cut(cookie, ".")
		raw, err := base64.RawURLEncoding.DecodeString(b64)
		require.NoError(t, err)
		return string(raw)
	}
	plain := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{})
	c := plain.client("")
	c.get("noid&login=ann&set=a=1")
	assert.NotContains(t, payload(t, c.cookie), `"sid"`, "no id unless asked")
	id := c.get("").ID
	assert.Contains(t, payload(t, c.cookie), `"sid":"`+id+`"`, "the id asked for is saved")

	revoking := newLCApp(t, lcMode{name: "cookie", revoke: true}, sessions.SessionConfig{})
	c = revoking.client("")
	c.get("noid&login=ann")
	assert.Contains(t, payload(t, c.cookie), `"sid"`, "with a RevocationStore every session has an id")
}

// TestSessionIsNew: true on the request that created the session, and
// after Login and Logout; false otherwise, Renew included.
func TestSessionIsNew(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{})
		c := a.client("")
		assert.True(t, c.get("set=a=1").New, "first request")
		assert.False(t, c.get("").New, "second request")
		assert.True(t, c.get("login=ann").New, "Login")
		assert.False(t, c.get("").New)
		assert.False(t, c.get("renew").New, "Renew")
		assert.True(t, c.get("logout&flash=x").New, "Logout")
		c.cookie = "garbage"
		assert.True(t, c.get("").New, "an invalid cookie")
	})
}

// TestSessionExpires: the earliest of MaxAge, IdleTimeout (from the last
// write) and AbsoluteTimeout (from the creation).
func TestSessionExpires(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		cfg := sessions.SessionConfig{MaxAge: time.Hour, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 45 * time.Minute}
		a := newLCApp(t, mode, cfg)
		t0 := a.clock.now()
		c := a.client("")
		assert.Equal(t, t0.Add(30*time.Minute).Unix(), c.get("login=ann").Expires, "IdleTimeout from the login")
		a.clock.add(2 * time.Minute)
		st := c.get("")
		assert.Nil(t, c.lastSet, "no refresh yet")
		assert.Equal(t, t0.Add(30*time.Minute).Unix(), st.Expires, "counted from the cookie's last write")
		a.clock.add(18 * time.Minute)
		st = c.get("") // past IdleTimeout/4: refreshed
		require.NotNil(t, c.lastSet)
		assert.Equal(t, t0.Add(45*time.Minute).Unix(), st.Expires, "AbsoluteTimeout caps it")

		b := newLCApp(t, mode, sessions.SessionConfig{MaxAge: time.Hour})
		st = b.client("").get("set=a=1")
		assert.Equal(t, b.clock.now().Add(time.Hour).Unix(), st.Expires, "MaxAge alone")
	})
	var s sessions.Session
	assert.True(t, s.Expires().IsZero(), "outside the middleware")
}

// TestUserSessions lists each device of a user with its browser and times,
// and marks the one asking.
func TestUserSessions(t *testing.T) {
	for _, mode := range lcModes()[1:] {
		t.Run(mode.name, func(t *testing.T) {
			a := newLCApp(t, mode, sessions.SessionConfig{MaxAge: time.Hour})
			t0 := a.clock.now()
			laptop, phone, other := a.client("Laptop Firefox"), a.client("Phone Safari"), a.client("Other")
			l := laptop.get("login=ann")
			a.clock.add(time.Minute)
			p := phone.get("login=ann")
			other.get("login=bob")
			a.clock.add(time.Minute)
			laptop.get("set=k=v") // seen later than the phone

			st := laptop.get("list")
			require.NoError(t, a.err("list"))
			require.Len(t, st.Sessions, 2)
			got := map[string]sessions.SessionInfo{}
			for _, s := range st.Sessions {
				got[s.UserAgent] = s
			}
			li, pi := got["Laptop Firefox"], got["Phone Safari"]
			assert.Equal(t, l.ID, li.ID)
			assert.Equal(t, p.ID, pi.ID)
			assert.True(t, li.Current, "the laptop is this device")
			assert.False(t, pi.Current)
			assert.Equal(t, t0.Unix(), li.Created.Unix())
			assert.Equal(t, t0.Add(2*time.Minute).Unix(), li.LastSeen.Unix())
			assert.Equal(t, t0.Add(time.Minute).Unix(), pi.Created.Unix())
			assert.Equal(t, t0.Add(time.Minute).Unix(), pi.LastSeen.Unix())
			assert.Equal(t, li.LastSeen.Add(time.Hour).Unix(), li.Expires.Unix())
			assert.Equal(t, li.ID, st.Sessions[0].ID, "most recently seen first")

			st = phone.get("list")
			require.Len(t, st.Sessions, 2)
			for _, s := range st.Sessions {
				assert.Equal(t, s.ID == p.ID, s.Current, "the phone's view")
			}
			// Outside a request: nothing is current.
			infos, err := a.m.UserSessions(context.Background(), "ann")
			require.NoError(t, err)
			for _, s := range infos {
				assert.False(t, s.Current)
			}
			_, err = a.m.UserSessions(context.Background(), "")
			require.ErrorIs(t, err, sessions.ErrInvalidUserID)
		})
	}
}

// TestUserSessionsCookieMode: the server keeps no list.
func TestUserSessionsCookieMode(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie", revoke: true}, sessions.SessionConfig{})
	_, err := a.m.UserSessions(context.Background(), "ann")
	require.ErrorIs(t, err, sessions.ErrNotSupported)
}

// TestUserSessionsStoreFails: a failing store is an ErrStore error, not a
// short list.
func TestUserSessionsStoreFails(t *testing.T) {
	fs := &lcFailStore{Store: memstore.New()}
	a := newLCApp(t, lcMode{name: "failing", store: func(*testing.T) sessions.Store { return fs }}, sessions.SessionConfig{})
	a.client("").get("login=ann")
	fs.fail(true)
	_, err := a.m.UserSessions(context.Background(), "ann")
	require.ErrorIs(t, err, sessions.ErrStore)
	err = a.m.DestroySession(context.Background(), "ann", strings.Repeat("a", 64))
	require.ErrorIs(t, err, sessions.ErrStore)
}

// TestDestroySession ends exactly one session of the user, and refuses
// another user's.
func TestDestroySession(t *testing.T) {
	forModes(t, func(t *testing.T, mode lcMode) {
		a := newLCApp(t, mode, sessions.SessionConfig{})
		laptop, phone, bob := a.client("L"), a.client("P"), a.client("B")
		laptop.get("login=ann")
		p := phone.get("login=ann")
		b := bob.get("login=bob")
		ctx := context.Background()

		if mode.store != nil {
			err := a.m.DestroySession(ctx, "ann", b.ID)
			require.ErrorIs(t, err, sessions.ErrNoSuchSession, "another user's session")
		} else {
			// Cookie mode cannot tell; the entry goes under ann's record
			// and so ends nothing of bob's.
			require.NoError(t, a.m.DestroySession(ctx, "ann", b.ID))
		}
		assert.Equal(t, "bob", bob.get("").User, "bob's session was not ended")
		require.ErrorIs(t, a.m.DestroySession(ctx, "ann", "not an id"), sessions.ErrNoSuchSession)
		require.ErrorIs(t, a.m.DestroySession(ctx, "", p.ID), sessions.ErrInvalidUserID)

		laptop.get("destroy=" + url.QueryEscape(p.ID))
		require.NoError(t, a.err("destroy"))
		assert.Empty(t, phone.get("").User, "the phone is logged out")
		assert.Equal(t, "ann", laptop.get("").User, "the laptop is not")
		assert.Equal(t, "bob", bob.get("").User)
		if mode.store != nil {
			require.ErrorIs(t, a.m.DestroySession(ctx, "ann", p.ID), sessions.ErrNoSuchSession, "ended already")
		}
	})
}

// TestDestroySessionCookieModeNeedsRevocationStore.
func TestDestroySessionCookieModeNeedsRevocationStore(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{})
	st := a.client("").get("login=ann")
	require.ErrorIs(t, a.m.DestroySession(context.Background(), "ann", st.ID), sessions.ErrNotSupported)
}

// TestLogoutRevokesCookie: in cookie mode with a RevocationStore, a copy of
// the cookie taken before Logout is dead after it.
func TestLogoutRevokesCookie(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie", revoke: true}, sessions.SessionConfig{})
	c := a.client("")
	c.get("login=ann&set=k=v")
	stolen := c.copyClient()
	other := a.client("")
	other.get("login=ann") // another device of the same user
	c.get("logout")
	require.NoError(t, a.err("logout"))
	st := stolen.get("")
	assert.Empty(t, st.User, "the copied cookie is dead")
	assert.Empty(t, st.Values)
	assert.Equal(t, "ann", other.get("").User, "the user's other session lives on")
}

// TestLogoutWithoutRevocationStore: the documented limit of stateless
// cookies.
func TestLogoutWithoutRevocationStore(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{})
	c := a.client("")
	c.get("login=ann")
	stolen := c.copyClient()
	c.get("logout")
	assert.Equal(t, "ann", stolen.get("").User, "a copy outlives Logout without a RevocationStore")
}

// TestLogoutRevokesInFlightReissue: a request that loaded the session
// before Logout and writes after it re-issues a cookie that is dead.
func TestLogoutRevokesInFlightReissue(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie", revoke: true}, sessions.SessionConfig{})
	c := a.client("")
	c.get("login=ann")
	slow := c.copyClient()
	g := a.gate("slow")
	done := make(chan struct{})
	go func() { defer close(done); slow.get("gate=slow&set=late=1") }()
	<-g.loaded
	c.get("logout")
	close(g.release)
	<-done
	require.NotNil(t, slow.lastSet, "the slow request re-issued its cookie")
	st := slow.get("")
	assert.Empty(t, st.User, "the re-issued cookie is dead")
	assert.NotContains(t, st.Values, "late")
}

// TestLongInFlightRequestRechecks: a request that loaded a logged-in
// session more than ClockSkew before it writes looks the revocation up
// again, and re-issues nothing for a revoked session.
func TestLongInFlightRequestRechecks(t *testing.T) {
	a := newLCApp(t, lcMode{name: "cookie", revoke: true}, sessions.SessionConfig{ClockSkew: time.Minute})
	c := a.client("")
	c.get("login=ann")
	slow := c.copyClient()
	g := a.gate("slow")
	done := make(chan struct{})
	go func() { defer close(done); slow.get("gate=slow&set=late=1") }()
	<-g.loaded
	c.get("logout")
	a.clock.add(2 * time.Minute)
	close(g.release)
	<-done
	assert.Nil(t, slow.lastSet, "no cookie re-issued for a revoked session")
}

// TestRevocationRecord: one record per user, entries dropped once they
// lapse, the record's TTL covering its latest entry, and DestroyUser in
// the same record.
func TestRevocationRecord(t *testing.T) {
	rs := &lcRecordingStore{Store: memstore.New()}
	cfg := sessions.SessionConfig{MaxAge: time.Hour, ClockSkew: time.Minute, RevocationStore: rs}
	a := newLCApp(t, lcMode{name: "cookie"}, cfg)
	c1, c2 := a.client(""), a.client("")
	s1 := c1.get("login=ann")
	c1.get("logout")
	ttl1 := rs.lastTTL()
	assert.Equal(t, time.Hour+2*time.Minute, ttl1, "TTL: MaxAge and twice ClockSkew")

	a.clock.add(time.Hour + 3*time.Minute) // the first entry has lapsed
	s2 := c2.get("login=ann")
	c2.get("logout")
	data := rs.data(t, "ann")
	assert.NotContains(t, data, s1.ID, "the lapsed entry was dropped")
	assert.Contains(t, data, s2.ID)
	assert.Equal(t, 1, rs.keys(), "one record per user")

	require.NoError(t, a.m.DestroyUser(context.Background(), "ann"))
	assert.Contains(t, rs.data(t, "ann"), s2.ID, "DestroyUser keeps the session entries")
	c3 := a.client("")
	a.clock.add(time.Second)
	c3.get("login=ann")
	assert.Equal(t, "ann", c3.get("").User, "a login after DestroyUser works")
}

// TestRevocationRecordCorrupt: an unreadable record is a store failure,
// never an anonymous session.
func TestRevocationRecordCorrupt(t *testing.T) {
	rs := &lcRecordingStore{Store: memstore.New()}
	a := newLCApp(t, lcMode{name: "cookie"}, sessions.SessionConfig{RevocationStore: rs})
	c := a.client("")
	c.get("login=ann")
	c.copyClient().get("logout") // creates ann's record
	key := rs.lastKey()
	rec, found, err := rs.Find(context.Background(), key)
	require.NoError(t, err)
	require.True(t, found)
	rec.Data, rec.TTL = []byte("{not json"), time.Hour
	found, err = rs.Update(context.Background(), rec)
	require.NoError(t, err)
	require.True(t, found)
	_, code := c.try("")
	assert.Equal(t, http.StatusInternalServerError, code)
}

// lcFailStore fails every call while failing is set.
type lcFailStore struct {
	sessions.Store
	mu      sync.Mutex
	failing bool
	writes  bool // fail Create, Update and Delete only
}

var errLCFail = errors.New("injected failure")

func (f *lcFailStore) fail(on bool)       { f.mu.Lock(); f.failing = on; f.mu.Unlock() }
func (f *lcFailStore) failWrites(on bool) { f.mu.Lock(); f.writes = on; f.mu.Unlock() }

func (f *lcFailStore) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return errLCFail
	}
	return nil
}

func (f *lcFailStore) writeErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing || f.writes {
		return errLCFail
	}
	return nil
}

func (f *lcFailStore) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := f.err(); err != nil {
		return sessions.Record{}, false, err
	}
	return f.Store.Find(ctx, id)
}

func (f *lcFailStore) Create(ctx context.Context, rec sessions.Record) error {
	if err := f.writeErr(); err != nil {
		return err
	}
	return f.Store.Create(ctx, rec)
}

func (f *lcFailStore) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := f.writeErr(); err != nil {
		return false, err
	}
	return f.Store.Update(ctx, rec)
}

func (f *lcFailStore) Delete(ctx context.Context, id string) error {
	if err := f.writeErr(); err != nil {
		return err
	}
	return f.Store.Delete(ctx, id)
}

func (f *lcFailStore) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.(sessions.UserStore).UserSessions(ctx, user)
}

func (f *lcFailStore) DeleteUser(ctx context.Context, user string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.(sessions.UserStore).DeleteUser(ctx, user)
}

// lcRecordingStore remembers the keys and TTLs written to it.
type lcRecordingStore struct {
	sessions.Store
	mu      sync.Mutex
	written map[string]bool
	last    sessions.Record
}

func (r *lcRecordingStore) note(rec sessions.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil {
		r.written = map[string]bool{}
	}
	r.written[rec.ID] = true
	r.last = rec
}

func (r *lcRecordingStore) Create(ctx context.Context, rec sessions.Record) error {
	r.note(rec)
	return r.Store.Create(ctx, rec)
}

func (r *lcRecordingStore) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	r.note(rec)
	return r.Store.Update(ctx, rec)
}

func (r *lcRecordingStore) lastTTL() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last.TTL
}
func (r *lcRecordingStore) lastKey() string { r.mu.Lock(); defer r.mu.Unlock(); return r.last.ID }
func (r *lcRecordingStore) keys() int       { r.mu.Lock(); defer r.mu.Unlock(); return len(r.written) }

// data returns the record last written, as text.
func (r *lcRecordingStore) data(t *testing.T, user string) string {
	t.Helper()
	rec, found, err := r.Find(context.Background(), r.lastKey())
	require.NoError(t, err)
	require.True(t, found, "no revocation record for %s", user)
	return string(rec.Data)
}

// TestLifecycleMetadataInEveryFormat: the session id, remember-me choice
// and (store mode) user agent survive the round trip in every format.
func TestLifecycleMetadataInEveryFormat(t *testing.T) {
	for _, f := range sessions.Formats() {
		for _, mode := range lcModes()[:2] {
			t.Run(fmt.Sprint(f, "/", mode.name), func(t *testing.T) {
				a := newLCApp(t, mode, sessions.SessionConfig{Format: f, BrowserSession: true})
				c := a.client("UA/1")
				st := c.get("login=ann&remember=1")
				next := c.get("set=a=1")
				assert.Equal(t, st.ID, next.ID)
				assert.Equal(t, "ann", next.User)
				assert.Positive(t, c.lastSet.MaxAge, "remember-me kept")
				if mode.store != nil {
					infos, err := a.m.UserSessions(context.Background(), "ann")
					require.NoError(t, err)
					require.Len(t, infos, 1)
					assert.Equal(t, "UA/1", infos[0].UserAgent)
				}
			})
		}
	}
}
