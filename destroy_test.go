package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Cookie mode: Logout only deletes the browser's copy; DestroyUser with a
// RevocationStore ends every cookie of the user logged in up to then.
func TestSecurityCookieModeRevocation(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	rs := memstore.New()
	t.Cleanup(func() { rs.Close() })
	newM := func(revocation sessions.Store) *sessions.Middleware {
		m, err := sessions.New(sessions.SessionConfig{
			SecretKey: sxKey, RevocationStore: revocation, Now: clock,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newM(rs)
	stolen := sxLogin(t, m, "", "alice")
	other := sxLogin(t, m, "", "bob")

	// Logout deletes the cookie in the browser, but a copy still works.
	if got := sxDo(t, m, stolen, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) }); got != "-" {
		t.Fatalf("Logout sent %q, want a deletion", got)
	}
	if u := sxUser(t, m, stolen); u != "alice" {
		t.Fatalf("cookie mode, copy after Logout: user %q; SECURITY.md says it still works", u)
	}

	advance(time.Minute)
	if err := m.DestroyUser(context.Background(), "alice"); err != nil {
		t.Fatalf("DestroyUser: %v", err)
	}
	if u := sxUser(t, m, stolen); u != "" {
		t.Errorf("after DestroyUser: user %q, want none", u)
	}
	if u := sxUser(t, m, other); u != "bob" {
		t.Errorf("another user's cookie: user %q, want bob", u)
	}
	advance(time.Second)
	if fresh := sxLogin(t, m, "", "alice"); sxUser(t, m, fresh) != "alice" {
		t.Error("a login after DestroyUser does not work")
	}
	// Without a RevocationStore there is nothing to record it in.
	if err := newM(nil).DestroyUser(context.Background(), "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Errorf("DestroyUser without RevocationStore = %v, want ErrNotSupported", err)
	}
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
