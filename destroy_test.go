package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
)

// Cookie mode: Logout only deletes the browser's copy; DestroyUser with a
// RevocationStore ends every cookie of the user logged in up to then, and
// a failing or corrupt RevocationStore is loud, never an anonymous session.
func TestSecurityCookieModeRevocation(t *testing.T) {
	rev := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rev})
	ctx := context.Background()
	stolen := issueLogin(t, e, "", "alice")
	a2 := issueLogin(t, e, "", "alice")
	bob := issueLogin(t, e, "", "bob")
	anon := e.MustVisit("", call(t, set("a", "1"))).Cookie

	// Logout deletes the cookie in the browser, but a copy still works.
	if got := e.MustVisit(stolen, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) }); !got.Deleted {
		t.Fatalf("Logout sent %q, want a deletion", got.Cookie)
	}
	if u := userOf(t, e, stolen); u != "alice" {
		t.Fatalf("cookie mode, copy after Logout: user %q; SECURITY.md says it still works", u)
	}

	e.Clock.Add(time.Minute)
	if err := e.M.DestroyUser(ctx, "alice"); err != nil {
		t.Fatalf("DestroyUser: %v", err)
	}
	for _, c := range []string{stolen, a2} {
		if u := userOf(t, e, c); u != "" {
			t.Errorf("after DestroyUser: user %q, want none", u)
		}
	}
	if u := userOf(t, e, bob); u != "bob" {
		t.Errorf("another user's cookie: user %q, want bob", u)
	}
	// A later login works; DestroyUser again revokes it too.
	e.Clock.Add(time.Second)
	fresh := issueLogin(t, e, "", "alice")
	if u := userOf(t, e, fresh); u != "alice" {
		t.Fatalf("a login after DestroyUser: user %q, want alice", u)
	}
	e.Clock.Add(time.Second)
	if err := e.M.DestroyUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if u := userOf(t, e, fresh); u != "" {
		t.Fatalf("second DestroyUser did not revoke the newer cookie: user %q", u)
	}
	// Anonymous sessions cost no lookup.
	before := rev.Count(faultstore.Find)
	if v, _ := read(t, e, anon, "a"); v != "1" {
		t.Fatal("anonymous cookie lost")
	}
	if rev.Count(faultstore.Find) != before {
		t.Fatal("anonymous session caused a revocation lookup")
	}
	// A failing RevocationStore is loud, never an anonymous session.
	rev.Fail(faultstore.Find, errInjected)
	r := e.Visit(bob, nil)
	rev.Fail(faultstore.Find, nil)
	if r.Rec.Code != http.StatusInternalServerError {
		t.Fatalf("status with failing RevocationStore = %d; want 500", r.Rec.Code)
	}
	if errs := e.Errors(); len(errs) != 1 || !errors.Is(errs[0], sessions.ErrStore) {
		t.Fatalf("error handler got %v; want ErrStore", errs)
	}
	rev.Fail(faultstore.Create, errInjected)
	if err := e.M.DestroyUser(ctx, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("DestroyUser with failing RevocationStore = %v; want ErrStore", err)
	}
	rev.Fail(faultstore.Create, nil)
	// A corrupt revocation record is a store failure too.
	sum := sha256.Sum256([]byte("ctxsession-revoked:bob"))
	corrupt := sessions.Record{ID: hex.EncodeToString(sum[:]), Data: []byte("not a time"), Expiry: time.Now().Add(time.Hour)}
	if err := rev.Inner().Create(ctx, corrupt); err != nil {
		t.Fatal(err)
	}
	if r := e.Visit(bob, call(t, set("x", "y"))); r.Rec.Code != http.StatusInternalServerError {
		t.Fatalf("status with a corrupt revocation record = %d; want 500", r.Rec.Code)
	}
	if errs := e.Errors(); len(errs) != 2 || !errors.Is(errs[1], sessions.ErrStore) {
		t.Fatalf("error handler got %v; want ErrStore", errs)
	}
	// Without a RevocationStore there is nothing to record it in.
	if err := sessions.NewEnv(t, sessions.SessionConfig{}).M.DestroyUser(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Errorf("DestroyUser without RevocationStore = %v, want ErrNotSupported", err)
	}
}

func TestStoreDestroyUser(t *testing.T) {
	e, _ := newStoreEnv(t)
	ctx := context.Background()
	var alice []string
	for range 3 {
		alice = append(alice, e.Visit("", call(t, login("alice"))).Cookie)
	}
	bob := e.Visit("", call(t, login("bob"))).Cookie
	anon := e.Visit("", call(t, set("a", "1"))).Cookie
	ids, err := e.M.UserSessions(ctx, "alice")
	if err != nil || len(ids) != 3 {
		t.Fatalf("UserSessions(alice) = %d, %v; want 3", len(ids), err)
	}
	if err := e.M.DestroyUser(ctx, "alice"); err != nil {
		t.Fatalf("DestroyUser: %v", err)
	}
	for _, c := range alice {
		if _, u := read(t, e, c, "who"); u != "" {
			t.Fatalf("alice's session survived DestroyUser")
		}
	}
	if _, u := read(t, e, bob, "who"); u != "bob" {
		t.Fatalf("bob's session = %q; want untouched", u)
	}
	if v, _ := read(t, e, anon, "a"); v != "1" {
		t.Fatalf("anonymous session = %q; want untouched", v)
	}
	if ids, _ := e.M.UserSessions(ctx, "alice"); len(ids) != 0 {
		t.Fatalf("UserSessions after DestroyUser = %d", len(ids))
	}
	if err := e.M.DestroyUser(ctx, ""); !errors.Is(err, sessions.ErrInvalidUserID) {
		t.Fatalf("DestroyUser(\"\") = %v; want ErrInvalidUserID", err)
	}

	plain := sessions.NewEnv(t, sessions.SessionConfig{Store: faultstore.NewMem(t).Plain()})
	if err := plain.M.DestroyUser(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Fatalf("DestroyUser without a UserStore = %v; want ErrNotSupported", err)
	}
	if _, err := plain.M.UserSessions(ctx, "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Fatalf("UserSessions without a UserStore = %v; want ErrNotSupported", err)
	}
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.M.DestroyUser(dead, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("DestroyUser with a failing store = %v; want ErrStore", err)
	}
	if _, err := e.M.UserSessions(dead, "bob"); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("UserSessions with a failing store = %v; want ErrStore", err)
	}
}
