// Package sessionstest checks that a sessions.Store keeps the contract the
// middleware relies on. Every store of this module runs it, and so can a
// store of your own:
//
//	func TestMyStore(t *testing.T) {
//		sessionstest.Run(t, func(t *testing.T) sessions.Store {
//			return mystore.New(...)
//		})
//	}
//
// Run calls newStore once per subtest. A store may be shared between calls
// (a Redis database, say): the suite uses fresh random ids and user ids, so
// it neither needs an empty store nor disturbs other data. Expiry is tested
// with real time (records that expire a few hundred milliseconds after they
// are written), so the store's clock must be the wall clock.
//
// When the store is also a sessions.UserStore, its per-user index is
// checked too.
package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

//lint:file-ignore ST1005 failure messages start with the name of the Store method that failed

// NewID returns a random storage key in the shape the middleware uses (64
// lowercase hex digits).
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newUser() string { return "user-" + NewID()[:16] }

// Run runs the conformance suite against the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s sessions.Store)
	}{
		{"FindUnknown", testFindUnknown},
		{"MalformedIDs", testMalformed},
		{"CreateFind", testCreateFind},
		{"CreateExists", testCreateExists},
		{"DataIsCopied", testDataCopied},
		{"UpdateReplaces", testUpdate},
		{"UpdateNeverRecreates", testUpdateMissing},
		{"Delete", testDelete},
		{"ExpiredNotReturned", testExpiredPast},
		{"ExpiresInTime", testExpiresLater},
		{"UpdateExtendsExpiry", testUpdateExtends},
		{"CanceledContext", testCanceled},
		{"Concurrent", testConcurrent},
		{"ConcurrentCreateOneWins", testCreateRace},
		{"UserIndex", testUserIndex},
		{"UserIndexOwnership", testUserOwnership},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rec(id string, data string, ttl time.Duration) sessions.Record {
	return sessions.Record{ID: id, Data: []byte(data), Expiry: time.Now().Add(ttl)}
}

func mustFind(t *testing.T, s sessions.Store, id, want string) {
	t.Helper()
	got, found, err := s.Find(ctxT(t), id)
	if err != nil || !found || string(got) != want {
		t.Fatalf("Find(%.12s...) = %q, %v, %v; want %q, true, nil", id, got, found, err, want)
	}
}

func mustNotFind(t *testing.T, s sessions.Store, id string) {
	t.Helper()
	got, found, err := s.Find(ctxT(t), id)
	if err != nil || found || got != nil {
		t.Fatalf("Find(%.12q) = %q, %v, %v; want nil, false, nil", id, got, found, err)
	}
}

func testFindUnknown(t *testing.T, s sessions.Store) {
	mustNotFind(t, s, NewID())
}

// malformedIDs are ids no middleware produces. A store must not fail or
// escape its storage on them.
var malformedIDs = []string{
	"", ".", "..", "../../etc/passwd", "a/b", `a\b`, "/abs", "a\x00b", "\x00",
	"con", "nul", " ", "a b", "\n", "é", strings.Repeat("a", 10_000), strings.Repeat("../", 100),
}

func testMalformed(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	for _, id := range malformedIDs {
		mustNotFind(t, s, id)
		found, err := s.Update(ctx, sessions.Record{ID: id, Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
		if err != nil || found {
			t.Errorf("Update(%.20q) = %v, %v; want false, nil", id, found, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%.20q) = %v; want nil", id, err)
		}
		mustNotFind(t, s, id)
		// Create may refuse a malformed id; if it accepts one, the
		// record must then behave like any other.
		if err := s.Create(ctx, sessions.Record{ID: id, Data: []byte("m"), Expiry: time.Now().Add(time.Hour)}); err == nil {
			mustFind(t, s, id, "m")
			if err := s.Delete(ctx, id); err != nil {
				t.Fatalf("Delete(%.20q) after Create: %v", id, err)
			}
			mustNotFind(t, s, id)
		} else if errors.Is(err, sessions.ErrExists) {
			t.Errorf("Create(%.20q) = %v; a malformed id cannot exist", id, err)
		}
	}
}

func testCreateFind(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	cases := []string{`{"a":1}`, "", "\x00\xff binary \n", strings.Repeat("x", 100_000)}
	for _, data := range cases {
		id := NewID()
		if err := s.Create(ctx, rec(id, data, time.Hour)); err != nil {
			t.Fatalf("Create: %v", err)
		}
		mustFind(t, s, id, data)
	}
}

func testCreateExists(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	if err := s.Create(ctx, rec(id, "first", time.Hour)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err := s.Create(ctx, rec(id, "second", time.Hour))
	if !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("second Create = %v; want ErrExists", err)
	}
	mustFind(t, s, id, "first")
}

func testDataCopied(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	data := []byte("original")
	if err := s.Create(ctx, sessions.Record{ID: id, Data: data, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXXXXX")
	got, _, _ := s.Find(ctx, id)
	if len(got) > 0 {
		got[0] = 'Y'
	}
	mustFind(t, s, id, "original")
}

func testUpdate(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	if err := s.Create(ctx, rec(id, "v1", time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v2", "", "v3-longer-value"} {
		found, err := s.Update(ctx, rec(id, v, time.Hour))
		if err != nil || !found {
			t.Fatalf("Update = %v, %v; want true, nil", found, err)
		}
		mustFind(t, s, id, v)
	}
}

func testUpdateMissing(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	found, err := s.Update(ctx, rec(id, "ghost", time.Hour))
	if err != nil || found {
		t.Fatalf("Update of unknown id = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, id)

	// The logout race: a record deleted while a request ran must stay
	// deleted when that request saves.
	if err := s.Create(ctx, rec(id, "live", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	found, err = s.Update(ctx, rec(id, "late write", time.Hour))
	if err != nil || found {
		t.Fatalf("Update after Delete = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, id)
	// And the id is free again.
	if err := s.Create(ctx, rec(id, "again", time.Hour)); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	mustFind(t, s, id, "again")
}

func testDelete(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	a, b := NewID(), NewID()
	for _, id := range []string{a, b} {
		if err := s.Create(ctx, rec(id, id, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, a); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustNotFind(t, s, a)
	mustFind(t, s, b, b)
	if err := s.Delete(ctx, a); err != nil {
		t.Fatalf("second Delete = %v; want nil", err)
	}
	if err := s.Delete(ctx, NewID()); err != nil {
		t.Fatalf("Delete of unknown id = %v; want nil", err)
	}
}

func testExpiredPast(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	if err := s.Create(ctx, rec(id, "old", -time.Second)); err != nil {
		t.Fatalf("Create with past expiry: %v", err)
	}
	mustNotFind(t, s, id)
	if found, err := s.Update(ctx, rec(id, "x", time.Hour)); err != nil || found {
		t.Fatalf("Update of expired record = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, id)
	// An expired id can be created afresh.
	if err := s.Create(ctx, rec(id, "new", time.Hour)); err != nil {
		t.Fatalf("Create over expired record: %v", err)
	}
	mustFind(t, s, id, "new")
	// Updating with a past expiry ends the record.
	if _, err := s.Update(ctx, rec(id, "x", -time.Second)); err != nil {
		t.Fatalf("Update with past expiry: %v", err)
	}
	mustNotFind(t, s, id)
}

// eventuallyGone waits (up to 10 s) for id to stop being found. It checks
// that expiry happens, not how fast.
func eventuallyGone(t *testing.T, s sessions.Store, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, found, err := s.Find(ctxT(t), id)
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		if !found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %.12s... still found 10 s after its expiry", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testExpiresLater(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	exp := time.Now().Add(300 * time.Millisecond)
	if err := s.Create(ctx, sessions.Record{ID: id, Data: []byte("short"), Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	eventuallyGone(t, s, id)
	if time.Now().Before(exp) {
		t.Fatalf("record gone before its expiry")
	}
	if found, err := s.Update(ctx, rec(id, "late", time.Hour)); err != nil || found {
		t.Fatalf("Update after expiry = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, id)
}

func testUpdateExtends(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	const short = 400 * time.Millisecond
	var id string
	var start time.Time
	for attempt := 0; ; attempt++ {
		id, start = NewID(), time.Now()
		if err := s.Create(ctx, rec(id, "a", short)); err != nil {
			t.Fatal(err)
		}
		found, err := s.Update(ctx, rec(id, "b", time.Hour))
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if found {
			break
		}
		if time.Since(start) < short || attempt == 5 {
			t.Fatalf("Update of a live record = false after %v; want true", time.Since(start))
		}
		// The machine was too slow to update within the short expiry:
		// not the store's fault, try again.
	}
	// Past the first expiry, the record lives on with its new one.
	time.Sleep(time.Until(start.Add(short + 100*time.Millisecond)))
	mustFind(t, s, id, "b")
	// And the reverse: shortening the expiry ends it sooner.
	if found, err := s.Update(ctx, rec(id, "c", 200*time.Millisecond)); err != nil || !found {
		t.Fatalf("Update = %v, %v", found, err)
	}
	eventuallyGone(t, s, id)
}

func testCanceled(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	if err := s.Create(ctx, rec(id, "kept", time.Hour)); err != nil {
		t.Fatal(err)
	}
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if _, found, err := s.Find(dead, id); err == nil || found {
		t.Errorf("Find with canceled ctx = %v, %v; want an error", found, err)
	}
	other := NewID()
	if err := s.Create(dead, rec(other, "x", time.Hour)); err == nil {
		t.Errorf("Create with canceled ctx = nil; want an error")
	}
	if found, err := s.Update(dead, rec(id, "overwritten", time.Hour)); err == nil || found {
		t.Errorf("Update with canceled ctx = %v, %v; want an error", found, err)
	}
	if err := s.Delete(dead, id); err == nil {
		t.Errorf("Delete with canceled ctx = nil; want an error")
	}
	mustFind(t, s, id, "kept")
	mustNotFind(t, s, other)
	if us, ok := s.(sessions.UserStore); ok {
		if _, err := us.UserSessions(dead, newUser()); err == nil {
			t.Errorf("UserSessions with canceled ctx = nil error")
		}
		if err := us.DeleteUser(dead, newUser()); err == nil {
			t.Errorf("DeleteUser with canceled ctx = nil error")
		}
	}
}

func testConcurrent(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	shared := NewID()
	if err := s.Create(ctx, rec(shared, "0", time.Hour)); err != nil {
		t.Fatal(err)
	}
	user := newUser()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				id := NewID()
				r := rec(id, fmt.Sprint(g, i), time.Hour)
				if i%2 == 0 {
					r.UserID = user
				}
				if err := s.Create(ctx, r); err != nil {
					errs <- fmt.Errorf("Create: %w", err)
					return
				}
				if data, found, err := s.Find(ctx, id); err != nil || !found || string(data) != fmt.Sprint(g, i) {
					errs <- fmt.Errorf("Find own record = %q, %v, %v", data, found, err)
					return
				}
				if _, err := s.Update(ctx, rec(shared, fmt.Sprint(g), time.Hour)); err != nil {
					errs <- fmt.Errorf("Update shared: %w", err)
					return
				}
				if _, _, err := s.Find(ctx, shared); err != nil {
					errs <- fmt.Errorf("Find shared: %w", err)
					return
				}
				if us, ok := s.(sessions.UserStore); ok && i%5 == 0 {
					if _, err := us.UserSessions(ctx, user); err != nil {
						errs <- fmt.Errorf("UserSessions: %w", err)
						return
					}
				}
				if err := s.Delete(ctx, id); err != nil {
					errs <- fmt.Errorf("Delete: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, found, err := s.Find(ctx, shared)
	if err != nil || !found || len(data) != 1 || data[0] < '0' || data[0] > '7' {
		t.Fatalf("shared record = %q, %v, %v; want one writer's value", data, found, err)
	}
	if us, ok := s.(sessions.UserStore); ok {
		ids, err := us.UserSessions(ctx, user)
		if err != nil || len(ids) != 0 {
			t.Fatalf("UserSessions after deleting all = %v, %v; want none", ids, err)
		}
	}
}

func testCreateRace(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	const n = 16
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i] = s.Create(ctx, rec(id, fmt.Sprint(i), time.Hour)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Create succeeded twice for one id (%d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, sessions.ErrExists):
			t.Fatalf("Create = %v; want nil or ErrExists", err)
		}
	}
	if winner < 0 {
		t.Fatal("no Create succeeded")
	}
	mustFind(t, s, id, fmt.Sprint(winner))
}

func testUserIndex(t *testing.T, s sessions.Store) {
	us, ok := s.(sessions.UserStore)
	if !ok {
		t.Logf("%T is not a sessions.UserStore; nothing to check", s)
		return
	}
	ctx := ctxT(t)
	alice, bob := newUser(), newUser()
	mk := func(user, data string, ttl time.Duration) string {
		id := NewID()
		r := rec(id, data, ttl)
		r.UserID = user
		if err := us.Create(ctx, r); err != nil {
			t.Fatalf("Create: %v", err)
		}
		return id
	}
	a1, a2, a3 := mk(alice, "a1", time.Hour), mk(alice, "a2", time.Hour), mk(alice, "a3", time.Hour)
	b1 := mk(bob, "b1", time.Hour)
	anon := mk("", "anon", time.Hour)
	mk(alice, "expired", -time.Second)

	check := func(user string, want ...string) {
		t.Helper()
		got, err := us.UserSessions(ctx, user)
		if err != nil {
			t.Fatalf("UserSessions: %v", err)
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Fatalf("UserSessions = %d ids %.8q; want %d ids %.8q", len(got), got, len(want), want)
		}
	}
	check(alice, a1, a2, a3)
	check(bob, b1)
	check(newUser())

	// Update keeps the record in the index.
	r := rec(a1, "a1'", time.Hour)
	r.UserID = alice
	if found, err := us.Update(ctx, r); err != nil || !found {
		t.Fatalf("Update = %v, %v", found, err)
	}
	check(alice, a1, a2, a3)

	if err := us.Delete(ctx, a2); err != nil {
		t.Fatal(err)
	}
	check(alice, a1, a3)

	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	check(alice)
	for _, id := range []string{a1, a3} {
		mustNotFind(t, s, id)
		if found, err := us.Update(ctx, rec(id, "resurrected", time.Hour)); err != nil || found {
			t.Fatalf("Update after DeleteUser = %v, %v; want false, nil", found, err)
		}
	}
	mustFind(t, s, b1, "b1")
	mustFind(t, s, anon, "anon")
	check(bob, b1)
	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatalf("second DeleteUser: %v", err)
	}
	if err := us.DeleteUser(ctx, newUser()); err != nil {
		t.Fatalf("DeleteUser of unknown user: %v", err)
	}

	// A user with many sessions, and user ids that are not path-safe.
	odd := "../odd user/\x00é"
	var many []string
	for i := range 50 {
		many = append(many, mk(odd, fmt.Sprint(i), time.Hour))
	}
	check(odd, many...)
	if err := us.DeleteUser(ctx, odd); err != nil {
		t.Fatal(err)
	}
	check(odd)
	for _, id := range many {
		mustNotFind(t, s, id)
	}
}

// testUserOwnership checks that the index never attributes a session to
// the wrong user: not after a Create that lost to an existing id, nor
// after an Update that changed the user.
func testUserOwnership(t *testing.T, s sessions.Store) {
	us, ok := s.(sessions.UserStore)
	if !ok {
		t.Logf("%T is not a sessions.UserStore; nothing to check", s)
		return
	}
	ctx := ctxT(t)
	alice, mallory := newUser(), newUser()
	id := NewID()
	r := rec(id, "alice's", time.Hour)
	r.UserID = alice
	if err := us.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	m := rec(id, "mallory's", time.Hour)
	m.UserID = mallory
	if err := us.Create(ctx, m); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("Create of a taken id = %v; want ErrExists", err)
	}
	if ids, err := us.UserSessions(ctx, mallory); err != nil || len(ids) != 0 {
		t.Fatalf("UserSessions(other user) = %v, %v; want none", ids, err)
	}
	if err := us.DeleteUser(ctx, mallory); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, id, "alice's")
	if ids, err := us.UserSessions(ctx, alice); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("UserSessions(owner) = %v, %v; want [%.12s...]", ids, err, id)
	}

	// An Update that hands the record to another user moves it.
	bob := newUser()
	r.UserID, r.Data = bob, []byte("bob's")
	if found, err := us.Update(ctx, r); err != nil || !found {
		t.Fatalf("Update = %v, %v", found, err)
	}
	if ids, _ := us.UserSessions(ctx, alice); len(ids) != 0 {
		t.Fatalf("UserSessions(previous owner) = %d ids; want 0", len(ids))
	}
	if err := us.DeleteUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, id, "bob's")
	if ids, _ := us.UserSessions(ctx, bob); len(ids) != 1 {
		t.Fatalf("UserSessions(new owner) = %d ids; want 1", len(ids))
	}
	if err := us.DeleteUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, id)
}
