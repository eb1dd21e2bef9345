package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Store mode, unit level: the real memstore, wrapped by faultStore to count
// calls and to fail on demand.

const stKey = "store-test-secret-key-0123456789abcdefghijkl"

var errInjected = errors.New("injected store failure")

// faultStore passes every call to the real store unless told to fail.
type faultStore struct {
	*memstore.Store
	failFind, failCreate, failUpdate, failDelete atomic.Bool
	finds, creates, updates, deletes             atomic.Int64
	lastExpiry                                   atomic.Value // time.Time of the last Create
}

func (f *faultStore) Find(ctx context.Context, id string) ([]byte, bool, error) {
	f.finds.Add(1)
	if f.failFind.Load() {
		return nil, false, errInjected
	}
	return f.Store.Find(ctx, id)
}

func (f *faultStore) Create(ctx context.Context, r sessions.Record) error {
	f.creates.Add(1)
	f.lastExpiry.Store(r.Expiry)
	if f.failCreate.Load() {
		return errInjected
	}
	return f.Store.Create(ctx, r)
}

func (f *faultStore) Update(ctx context.Context, r sessions.Record) (bool, error) {
	f.updates.Add(1)
	if f.failUpdate.Load() {
		return false, errInjected
	}
	return f.Store.Update(ctx, r)
}

func (f *faultStore) Delete(ctx context.Context, id string) error {
	f.deletes.Add(1)
	if f.failDelete.Load() {
		return errInjected
	}
	return f.Store.Delete(ctx, id)
}

// plainStore hides the UserStore methods.
type plainStore struct{ s sessions.Store }

func (p plainStore) Find(ctx context.Context, id string) ([]byte, bool, error) {
	return p.s.Find(ctx, id)
}
func (p plainStore) Create(ctx context.Context, r sessions.Record) error { return p.s.Create(ctx, r) }
func (p plainStore) Update(ctx context.Context, r sessions.Record) (bool, error) {
	return p.s.Update(ctx, r)
}
func (p plainStore) Delete(ctx context.Context, id string) error { return p.s.Delete(ctx, id) }

type stEnv struct {
	t     *testing.T
	m     *sessions.Middleware
	store *faultStore
	errs  chan error // what the error handler saw
	// storeMode: the middleware uses store (not a replacement or cookies)
	storeMode bool
}

func newStEnv(t *testing.T, mutate func(*sessions.SessionConfig)) *stEnv {
	t.Helper()
	e := &stEnv{t: t, store: &faultStore{Store: memstore.New(memstore.WithCleanupInterval(0))}, errs: make(chan error, 100)}
	cfg := sessions.SessionConfig{
		SecretKey: stKey,
		Store:     e.store,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			e.errs <- err
			http.Error(w, "store trouble", http.StatusInternalServerError)
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := sessions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.storeMode = cfg.Store == sessions.Store(e.store)
	return e
}

type stResp struct {
	code   int
	cookie string // the session cookie's new value; "" if none was set
	del    bool   // the response deletes the cookie
	body   string
}

// do serves one request carrying cookie, running fn inside the handler.
func (e *stEnv) do(cookie string, fn func(ctx context.Context) error) stResp {
	e.t.Helper()
	var fnErr error
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fnErr = fn(r.Context())
		io.WriteString(w, "ok")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if fnErr != nil {
		e.t.Logf("handler error: %v", fnErr)
	}
	out := stResp{code: rec.Code, body: rec.Body.String()}
	for _, c := range rec.Result().Cookies() {
		if c.Name != "session" {
			continue
		}
		if c.MaxAge < 0 {
			out.del = true
		} else {
			out.cookie = c.Value
		}
	}
	if out.cookie != "" && e.m != nil && e.store != nil && e.storeMode {
		// A Set-Cookie must point at saved data: the store holds the
		// record of the id it carries (the id is the cookie's first
		// dot-separated part; the store sees its SHA-256).
		id, _, _ := strings.Cut(out.cookie, ".")
		sum := sha256.Sum256([]byte(id))
		if _, found, err := e.store.Store.Find(context.Background(), hex.EncodeToString(sum[:])); !found || err != nil {
			e.t.Fatalf("Set-Cookie points at id %.8s... with no saved record (%v)", id, err)
		}
	}
	return out
}

func set(k, v string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s, err := sessions.GetSession(ctx)
		if err != nil {
			return err
		}
		s.Set(k, v)
		return nil
	}
}

func login(user string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := sessions.Login(ctx, user); err != nil {
			return err
		}
		s, _ := sessions.GetSession(ctx)
		s.Set("who", user)
		return nil
	}
}

// read returns the session's value of k and its user, as the server sees
// the cookie.
func (e *stEnv) read(cookie, k string) (string, string) {
	e.t.Helper()
	var v, u string
	r := e.do(cookie, func(ctx context.Context) error {
		s, err := sessions.GetSession(ctx)
		if err != nil {
			return err
		}
		v, _ = sessions.GetAs[string](s, k)
		u = s.UserID()
		return nil
	})
	if r.code != 200 {
		e.t.Fatalf("read: status %d", r.code)
	}
	return v, u
}

func TestStoreAnonymousFloodCreatesNothing(t *testing.T) {
	e := newStEnv(t, nil)
	good := e.do("", set("a", "1")).cookie
	if good == "" {
		t.Fatal("no cookie")
	}
	forged := []string{
		"", "garbage", strings.Repeat("A", 43) + ".AAAAAA.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		good[:len(good)-2] + "AA", "." + good, strings.Repeat("x", 5000),
	}
	findsBefore := e.store.finds.Load()
	for i := range 500 {
		r := e.do(forged[i%len(forged)], func(ctx context.Context) error {
			s, err := sessions.GetSession(ctx)
			if err != nil {
				return err
			}
			s.Get("a")
			sessions.UserID(ctx)
			return nil
		})
		if r.code != 200 || r.cookie != "" {
			t.Fatalf("flood request %d: status %d, cookie %q; want 200 and no cookie", i, r.code, r.cookie)
		}
	}
	if n := e.store.Len(); n != 1 {
		t.Fatalf("store holds %d records after an anonymous flood; want 1 (the real session)", n)
	}
	if c := e.store.creates.Load(); c != 1 {
		t.Fatalf("Create called %d times; want 1", c)
	}
	// Forged cookies are rejected by their signature, before the store.
	if f := e.store.finds.Load() - findsBefore; f != 0 {
		t.Fatalf("forged cookies caused %d store lookups; want 0", f)
	}
}

func TestStoreUnknownIDNeverAdopted(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("a", "1")).cookie
	// The record disappears (here by Destroy; expiry or another server's
	// Logout do the same): the signed id must never get a record again.
	e.do(c, func(ctx context.Context) error { return sessions.Destroy(ctx) })
	if e.store.Len() != 0 {
		t.Fatalf("Destroy left %d records; want 0", e.store.Len())
	}
	r := e.do(c, set("b", "2"))
	if r.code != 200 || r.cookie == "" || r.cookie == c {
		t.Fatalf("write with a dead id: status %d cookie %q; want 200 and a new cookie", r.code, r.cookie)
	}
	if v, _ := e.read(r.cookie, "a"); v != "" {
		t.Fatalf("new session carries old data %q", v)
	}
	if v, _ := e.read(c, "b"); v != "" {
		t.Fatalf("old cookie reads the new session's data %q", v)
	}
}

func TestStoreLoginAndLogoutRotateIDs(t *testing.T) {
	e := newStEnv(t, nil)
	anon := e.do("", set("cart", "3 apples")).cookie
	if e.store.Len() != 1 {
		t.Fatalf("records = %d; want 1", e.store.Len())
	}
	r := e.do(anon, func(ctx context.Context) error { return sessions.LoginKeep(ctx, "alice", "cart") })
	if r.code != 200 || r.cookie == "" || r.cookie == anon {
		t.Fatalf("Login: status %d cookie %q", r.code, r.cookie)
	}
	authed := r.cookie
	if e.store.Len() != 1 {
		t.Fatalf("records after Login = %d; want 1 (old deleted, new created)", e.store.Len())
	}
	if v, u := e.read(authed, "cart"); v != "3 apples" || u != "alice" {
		t.Fatalf("after Login: cart %q user %q", v, u)
	}
	// Replay of the pre-login cookie.
	if v, u := e.read(anon, "cart"); v != "" || u != "" {
		t.Fatalf("pre-login cookie still works: cart %q user %q", v, u)
	}
	r = e.do(authed, sessions.Logout)
	if !r.del || r.cookie != "" {
		t.Fatalf("Logout: del %v cookie %q; want the cookie deleted", r.del, r.cookie)
	}
	if e.store.Len() != 0 {
		t.Fatalf("records after Logout = %d; want 0", e.store.Len())
	}
	if v, u := e.read(authed, "cart"); v != "" || u != "" {
		t.Fatalf("cookie replayed after Logout: cart %q user %q", v, u)
	}
	// RegenerateSession likewise.
	c := e.do("", set("k", "v")).cookie
	r = e.do(c, func(ctx context.Context) error {
		s, err := sessions.RegenerateSession(ctx)
		if err != nil {
			return err
		}
		s.Set("k", "v2")
		return nil
	})
	if r.cookie == "" || r.cookie == c || e.store.Len() != 1 {
		t.Fatalf("RegenerateSession: cookie %q (old %q), %d records", r.cookie, c, e.store.Len())
	}
	if v, _ := e.read(c, "k"); v != "" {
		t.Fatalf("cookie from before RegenerateSession still reads %q", v)
	}
}

func TestStoreLogoutRacingSlowWriter(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", login("alice")).cookie
	loaded, release := make(chan struct{}), make(chan struct{})
	done := make(chan stResp)
	go func() {
		done <- e.do(c, func(ctx context.Context) error {
			s, err := sessions.GetSession(ctx)
			if err != nil {
				return err
			}
			close(loaded)
			<-release
			s.Set("late", "write")
			return nil
		})
	}()
	<-loaded
	if r := e.do(c, sessions.Logout); !r.del {
		t.Fatal("Logout did not delete the cookie")
	}
	close(release)
	slow := <-done
	if slow.code != 200 || slow.cookie != "" {
		t.Fatalf("slow writer: status %d cookie %q; want 200 and no cookie", slow.code, slow.cookie)
	}
	if e.store.Len() != 0 {
		t.Fatalf("records = %d; the slow writer recreated the logged-out session", e.store.Len())
	}
	if v, u := e.read(c, "late"); v != "" || u != "" {
		t.Fatalf("logged-out cookie reads %q, user %q", v, u)
	}
}

func TestStoreConcurrentRegenerateLeavesNoOrphan(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "v")).cookie
	r := e.do(c, func(ctx context.Context) error {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if s, err := sessions.RegenerateSession(ctx); err == nil {
					s.Set("k", "new")
				}
			})
		}
		wg.Wait()
		return nil
	})
	if r.code != 200 || r.cookie == "" {
		t.Fatalf("status %d cookie %q", r.code, r.cookie)
	}
	if n := e.store.Len(); n != 1 {
		t.Fatalf("records = %d; want 1 (no orphan)", n)
	}
	if v, _ := e.read(r.cookie, "k"); v != "new" {
		t.Fatalf("new cookie reads %q; want new", v)
	}

	// Two requests with the same cookie regenerating at once: the old
	// record goes, and every record left is one a response points at.
	var wg sync.WaitGroup
	resps := make([]stResp, 2)
	for i := range resps {
		wg.Go(func() {
			resps[i] = e.do(r.cookie, func(ctx context.Context) error {
				s, err := sessions.RegenerateSession(ctx)
				if err != nil {
					return err
				}
				s.Set("k", "again")
				return nil
			})
		})
	}
	wg.Wait()
	if v, _ := e.read(r.cookie, "k"); v != "" {
		t.Fatalf("old cookie still reads %q", v)
	}
	for _, x := range resps {
		if x.cookie == "" {
			t.Fatalf("a regenerating request got no cookie (status %d)", x.code)
		}
		if v, _ := e.read(x.cookie, "k"); v != "again" {
			t.Fatalf("issued cookie reads %q; want again", v)
		}
	}
	if n := e.store.Len(); n != len(resps) {
		t.Fatalf("records = %d; want %d, one per issued cookie", n, len(resps))
	}
}

func TestStoreFailureIsLoud(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "precious")).cookie

	tests := []struct {
		name string
		fail *atomic.Bool
		fn   func(ctx context.Context) error
		// cookie: the request carries the existing cookie
		cookie bool
	}{
		{"Find on load", &e.store.failFind, set("k", "clobber"), true},
		{"Update on save", &e.store.failUpdate, set("k", "clobber"), true},
		{"Create on save", &e.store.failCreate, set("k", "fresh"), false},
		{"Delete on Login", &e.store.failDelete, login("mallory"), true},
		{"Delete on Logout", &e.store.failDelete, sessions.Logout, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fail.Store(true)
			before := e.store.Len()
			cookie := ""
			if tc.cookie {
				cookie = c
			}
			r := e.do(cookie, tc.fn)
			tc.fail.Store(false)
			if r.code != http.StatusInternalServerError || r.cookie != "" || r.del {
				t.Fatalf("status %d cookie %q del %v; want 500 and no Set-Cookie", r.code, r.cookie, r.del)
			}
			select {
			case err := <-e.errs:
				if !errors.Is(err, sessions.ErrStore) || !errors.Is(err, errInjected) {
					t.Fatalf("error handler got %v; want ErrStore wrapping the cause", err)
				}
			default:
				t.Fatal("error handler not called")
			}
			if e.store.Len() != before {
				t.Fatalf("records %d -> %d", before, e.store.Len())
			}
			if v, u := e.read(c, "k"); v != "precious" || u != "" {
				t.Fatalf("stored session now %q user %q; want it untouched", v, u)
			}
		})
	}
}

func TestStoreFailureVisibleToHandler(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "v")).cookie
	e.store.failFind.Store(true)
	var got error
	e.do(c, func(ctx context.Context) error {
		_, got = sessions.GetSession(ctx)
		return nil
	})
	if !errors.Is(got, sessions.ErrStore) {
		t.Fatalf("GetSession = %v; want ErrStore", got)
	}
	<-e.errs
}

func TestStoreDestroyUser(t *testing.T) {
	e := newStEnv(t, nil)
	ctx := context.Background()
	var alice []string
	for range 3 {
		alice = append(alice, e.do("", login("alice")).cookie)
	}
	bob := e.do("", login("bob")).cookie
	anon := e.do("", set("a", "1")).cookie
	ids, err := e.m.UserSessions(ctx, "alice")
	if err != nil || len(ids) != 3 {
		t.Fatalf("UserSessions(alice) = %d, %v; want 3", len(ids), err)
	}
	if err := e.m.DestroyUser(ctx, "alice"); err != nil {
		t.Fatalf("DestroyUser: %v", err)
	}
	for _, c := range alice {
		if _, u := e.read(c, "who"); u != "" {
			t.Fatalf("alice's session survived DestroyUser")
		}
	}
	if _, u := e.read(bob, "who"); u != "bob" {
		t.Fatalf("bob's session = %q; want untouched", u)
	}
	if v, _ := e.read(anon, "a"); v != "1" {
		t.Fatalf("anonymous session = %q; want untouched", v)
	}
	if ids, _ := e.m.UserSessions(ctx, "alice"); len(ids) != 0 {
		t.Fatalf("UserSessions after DestroyUser = %d", len(ids))
	}
	if err := e.m.DestroyUser(ctx, ""); !errors.Is(err, sessions.ErrInvalidUserID) {
		t.Fatalf("DestroyUser(\"\") = %v; want ErrInvalidUserID", err)
	}

	plain := newStEnv(t, func(c *sessions.SessionConfig) { c.Store = plainStore{memstore.New()} })
	if err := plain.m.DestroyUser(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Fatalf("DestroyUser without a UserStore = %v; want ErrNotSupported", err)
	}
	if _, err := plain.m.UserSessions(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Fatalf("UserSessions without a UserStore = %v; want ErrNotSupported", err)
	}
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.m.DestroyUser(dead, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("DestroyUser with a failing store = %v; want ErrStore", err)
	}
	if _, err := e.m.UserSessions(dead, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("UserSessions with a failing store = %v; want ErrStore", err)
	}
}

// TestStoreFakeClock checks that a middleware clock far from the wall
// clock neither expires records at once nor lets them outlive MaxAge.
func TestStoreFakeClock(t *testing.T) {
	for _, base := range []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(10 * 365 * 24 * time.Hour)} {
		e := newStEnv(t, func(c *sessions.SessionConfig) {
			c.Now = func() time.Time { return base }
			c.MaxAge = time.Hour
		})
		c := e.do("", set("k", "v")).cookie
		if v, _ := e.read(c, "k"); v != "v" {
			t.Fatalf("clock %v: session lost at once (%q)", base, v)
		}
		// The record ends MaxAge from now on the wall clock.
		exp := e.store.lastExpiry.Load().(time.Time)
		if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("clock %v: record expires in %v; want about 1h of wall time", base, d)
		}
	}
}

func TestCookieModeDestroyUserRevokes(t *testing.T) {
	clock := struct {
		sync.Mutex
		now time.Time
	}{now: time.Unix(1_800_000_000, 0)}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }
	advance := func(d time.Duration) { clock.Lock(); clock.now = clock.now.Add(d); clock.Unlock() }
	rev := &faultStore{Store: memstore.New(memstore.WithCleanupInterval(0))}
	e := newStEnv(t, func(c *sessions.SessionConfig) {
		c.Store = nil
		c.RevocationStore = rev
		c.Now = now
	})
	ctx := context.Background()
	a1 := e.do("", login("alice")).cookie
	a2 := e.do("", login("alice")).cookie
	bob := e.do("", login("bob")).cookie
	anon := e.do("", set("a", "1")).cookie
	if _, u := e.read(a1, "who"); u != "alice" {
		t.Fatalf("before DestroyUser: user %q", u)
	}
	advance(2 * time.Second)
	if err := e.m.DestroyUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{a1, a2} {
		if _, u := e.read(c, "who"); u != "" {
			t.Fatalf("alice's cookie still accepted after DestroyUser")
		}
	}
	if _, u := e.read(bob, "who"); u != "bob" {
		t.Fatalf("bob's cookie = %q; want accepted", u)
	}
	// A later login works; DestroyUser again revokes it too.
	advance(2 * time.Second)
	a3 := e.do("", login("alice")).cookie
	if _, u := e.read(a3, "who"); u != "alice" {
		t.Fatalf("login after DestroyUser rejected")
	}
	advance(2 * time.Second)
	if err := e.m.DestroyUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, u := e.read(a3, "who"); u != "" {
		t.Fatalf("second DestroyUser did not revoke the newer cookie")
	}
	// Anonymous sessions cost no lookup.
	before := rev.finds.Load()
	if v, _ := e.read(anon, "a"); v != "1" {
		t.Fatal("anonymous cookie lost")
	}
	if rev.finds.Load() != before {
		t.Fatal("anonymous session caused a revocation lookup")
	}
	// A failing RevocationStore is loud, never an anonymous session.
	rev.failFind.Store(true)
	r := e.do(bob, func(ctx context.Context) error {
		_, err := sessions.GetSession(ctx)
		return err
	})
	rev.failFind.Store(false)
	if r.code != http.StatusInternalServerError {
		t.Fatalf("status with failing RevocationStore = %d; want 500", r.code)
	}
	if err := <-e.errs; !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("error handler got %v; want ErrStore", err)
	}
	rev.failCreate.Store(true)
	if err := e.m.DestroyUser(ctx, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("DestroyUser with failing RevocationStore = %v; want ErrStore", err)
	}
	rev.failCreate.Store(false)
	// A corrupt revocation record is a store failure too.
	sum := sha256.Sum256([]byte("ctxsession-revoked:bob"))
	corrupt := sessions.Record{ID: hex.EncodeToString(sum[:]), Data: []byte("not a time"), Expiry: time.Now().Add(time.Hour)}
	if err := rev.Store.Create(ctx, corrupt); err != nil {
		t.Fatal(err)
	}
	if r := e.do(bob, set("x", "y")); r.code != http.StatusInternalServerError {
		t.Fatalf("status with a corrupt revocation record = %d; want 500", r.code)
	}
	if err := <-e.errs; !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("error handler got %v; want ErrStore", err)
	}
	noRev := newStEnv(t, func(c *sessions.SessionConfig) { c.Store = nil })
	if err := noRev.m.DestroyUser(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Fatalf("cookie-mode DestroyUser without RevocationStore = %v; want ErrNotSupported", err)
	}
}

// Log a user out on every device, for instance after a password change.
func ExampleMiddleware_DestroyUser() {
	store := memstore.New()
	defer store.Close()
	mw, _ := sessions.New(sessions.SessionConfig{SecretKey: stKey, Store: store})
	login := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Login(r.Context(), "alice")
	}))
	for range 3 { // three devices
		login.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
	}
	ctx := context.Background()
	ids, _ := mw.UserSessions(ctx, "alice")
	fmt.Println("sessions before:", len(ids))
	if err := mw.DestroyUser(ctx, "alice"); err != nil {
		fmt.Println(err)
	}
	ids, _ = mw.UserSessions(ctx, "alice")
	fmt.Println("sessions after:", len(ids))
	// Output:
	// sessions before: 3
	// sessions after: 0
}
