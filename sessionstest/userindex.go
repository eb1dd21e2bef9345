package sessionstest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// This file checks the per-user index of a sessions.UserStore.

// checkUser fails the test unless UserSessions(user) lists exactly want.
func checkUser(t *testing.T, us sessions.UserStore, user string, want ...string) {
	t.Helper()
	got, err := us.UserSessions(ctxT(t), user)
	if err != nil {
		t.Fatalf("UserSessions: %v", err)
	}
	got = slices.Sorted(slices.Values(got))
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("UserSessions = %d ids %.8q; want %d ids %.8q", len(got), got, len(want), want)
	}
}

func asUserStore(t *testing.T, s sessions.Store) (sessions.UserStore, bool) {
	us, ok := s.(sessions.UserStore)
	if !ok {
		t.Logf("%T is not a sessions.UserStore; nothing to check", s)
	}
	return us, ok
}

// mkUser creates a record of user and returns its id.
func mkUser(t *testing.T, s sessions.Store, user, data string, ttl time.Duration) string {
	t.Helper()
	r := rec(NewID(), data, ttl)
	r.UserID = user
	create(t, s, r)
	return r.ID
}

func testUserIndex(t *testing.T, s sessions.Store) {
	us, ok := asUserStore(t, s)
	if !ok {
		return
	}
	ctx := ctxT(t)
	alice, bob := newUser(), newUser()
	a1, a2, a3 := mkUser(t, s, alice, "a1", time.Hour), mkUser(t, s, alice, "a2", time.Hour), mkUser(t, s, alice, "a3", time.Hour)
	b1 := mkUser(t, s, bob, "b1", time.Hour)
	anon := mkUser(t, s, "", "anon", time.Hour)
	checkUser(t, us, alice, a1, a2, a3)
	checkUser(t, us, bob, b1)
	checkUser(t, us, newUser())

	// Update keeps the record in the index.
	r := rec(a1, "a1'", time.Hour)
	r.UserID, r.Version = alice, 1
	update(t, s, r)
	checkUser(t, us, alice, a1, a2, a3)

	if err := us.Delete(ctx, a2); err != nil {
		t.Fatal(err)
	}
	checkUser(t, us, alice, a1, a3)

	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	checkUser(t, us, alice)
	for _, id := range []string{a1, a3} {
		mustNotFind(t, s, id)
		r := rec(id, "resurrected", time.Hour)
		r.UserID, r.Version = alice, 2
		if found, err := us.Update(ctx, r); err != nil || found {
			t.Fatalf("Update after DeleteUser = %v, %v; want false, nil", found, err)
		}
	}
	checkUser(t, us, alice)
	mustFind(t, s, b1, "b1")
	mustFind(t, s, anon, "anon")
	checkUser(t, us, bob, b1)
	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatalf("second DeleteUser: %v", err)
	}
	if err := us.DeleteUser(ctx, newUser()); err != nil {
		t.Fatalf("DeleteUser of unknown user: %v", err)
	}

	// A user with many sessions, and user ids that are not path-safe.
	odd := "../odd user/\x00é'\""
	var many []string
	for i := range 50 {
		many = append(many, mkUser(t, s, odd, fmt.Sprint(i), time.Hour))
	}
	checkUser(t, us, odd, many...)
	if err := us.DeleteUser(ctx, odd); err != nil {
		t.Fatal(err)
	}
	checkUser(t, us, odd)
	for _, id := range many {
		mustNotFind(t, s, id)
	}
}

// testUserOwnership checks that the index never attributes a session to
// the wrong user: not after a Create that lost to an existing id, nor
// after an Update that changed the user, nor after one that conflicted.
func testUserOwnership(t *testing.T, s sessions.Store) {
	us, ok := asUserStore(t, s)
	if !ok {
		return
	}
	ctx := ctxT(t)
	alice, mallory := newUser(), newUser()
	id := mkUser(t, s, alice, "alice's", time.Hour)
	m := rec(id, "mallory's", time.Hour)
	m.UserID = mallory
	if err := us.Create(ctx, m); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("Create of a taken id = %v; want ErrExists", err)
	}
	m.Version = 7
	if _, err := us.Update(ctx, m); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("Update with a stale version = %v; want ErrConflict", err)
	}
	checkUser(t, us, mallory)
	if err := us.DeleteUser(ctx, mallory); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, id, "alice's")
	checkUser(t, us, alice, id)

	// An Update that hands the record to another user moves it.
	bob := newUser()
	r := rec(id, "bob's", time.Hour)
	r.UserID, r.Version = bob, 1
	update(t, s, r)
	checkUser(t, us, alice)
	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, id, "bob's")
	checkUser(t, us, bob, id)
	if err := us.DeleteUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, id)
	checkUser(t, us, bob)
}

// testUserPruned checks that UserSessions never lists a session that was
// deleted or has expired, before any cleanup ran.
func testUserPruned(t *testing.T, s sessions.Store) {
	us, ok := asUserStore(t, s)
	if !ok {
		return
	}
	ctx := ctxT(t)
	alice := newUser()
	kept := mkUser(t, s, alice, "kept", time.Hour)
	deleted := mkUser(t, s, alice, "deleted", time.Hour)
	short := rec(NewID(), "short", 300*time.Millisecond)
	short.UserID = alice
	createShort(t, s, &short)
	if err := us.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	eventuallyGone(t, s, short.ID)
	checkUser(t, us, alice, kept)
	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	checkUser(t, us, alice)
	mustNotFind(t, s, kept)
}

// testDeleteOwned checks a sessions.OwnerDeleter: with the right owner, a
// wrong one or none, DeleteOwned deletes the record, UserSessions no longer
// lists it, and nothing else changes. (That no stale index entry stays
// behind until pruned is for the store's own tests to check.)
func testDeleteOwned(t *testing.T, s sessions.Store) {
	od, ok := s.(sessions.OwnerDeleter)
	if !ok {
		t.Logf("%T is not a sessions.OwnerDeleter; nothing to check", s)
		return
	}
	ctx := ctxT(t)
	alice, bob := newUser(), newUser()
	kept := mkUser(t, s, alice, "kept", time.Hour)
	bobs := mkUser(t, s, bob, "bob's", time.Hour)
	for _, hint := range []string{alice, bob, ""} {
		id := mkUser(t, s, alice, "gone", time.Hour)
		if err := od.DeleteOwned(ctx, id, hint); err != nil {
			t.Fatalf("DeleteOwned(hint %q): %v", hint, err)
		}
		mustNotFind(t, s, id)
		checkUser(t, od, alice, kept)
		checkUser(t, od, bob, bobs)
	}
	anon := mkUser(t, s, "", "anon", time.Hour)
	if err := od.DeleteOwned(ctx, anon, ""); err != nil {
		t.Fatalf("DeleteOwned of an anonymous record: %v", err)
	}
	mustNotFind(t, s, anon)
	if err := od.DeleteOwned(ctx, NewID(), alice); err != nil {
		t.Fatalf("DeleteOwned of an unknown id: %v", err)
	}
	checkUser(t, od, alice, kept)
}
