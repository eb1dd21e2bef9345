package sessionstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// This file checks the four Store methods one at a time.

func testFindUnknown(t *testing.T, s sessions.Store) {
	mustNotFind(t, s, NewID())
}

// malformedIDs are ids no middleware produces. A store must not fail or
// escape its storage on them.
var malformedIDs = []string{
	"", ".", "..", "../../etc/passwd", "a/b", `a\b`, "/abs", "a\x00b", "\x00",
	"con", "nul", " ", "a b", "\n", "é", "'; DROP TABLE sessions; --", `"`,
	strings.Repeat("a", 10_000), strings.Repeat("../", 100),
}

func testMalformed(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	for _, id := range malformedIDs {
		mustNotFind(t, s, id)
		found, err := s.Update(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour, Version: 1})
		if err != nil || found {
			t.Errorf("Update(%.20q) = %v, %v; want false, nil", id, found, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%.20q) = %v; want nil", id, err)
		}
		mustNotFind(t, s, id)
		// Create may refuse a malformed id; if it accepts one, the
		// record must then behave like any other.
		if err := s.Create(ctx, rec(id, "m", time.Hour)); err == nil {
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
	cases := []string{`{"a":1}`, "", "\x00\xff binary \n", strings.Repeat("x", 100_000)}
	for i, data := range cases {
		r := rec(NewID(), data, time.Hour)
		if i%2 == 0 {
			r.UserID = newUser()
		}
		create(t, s, r)
		got := mustFind(t, s, r.ID, data)
		if got.UserID != r.UserID {
			t.Fatalf("Find: UserID = %q; want %q", got.UserID, r.UserID)
		}
	}
}

func testCreateExists(t *testing.T, s sessions.Store) {
	id := NewID()
	create(t, s, rec(id, "first", time.Hour))
	err := s.Create(ctxT(t), rec(id, "second", time.Hour))
	if !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("second Create = %v; want ErrExists", err)
	}
	if got := mustFind(t, s, id, "first"); got.Version != 1 {
		t.Fatalf("Version after a refused Create = %d; want 1", got.Version)
	}
}

func testDataCopied(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	data := []byte("original")
	create(t, s, sessions.Record{ID: id, Data: data, TTL: time.Hour})
	copy(data, "XXXXXXXX")
	got, _, _ := s.Find(ctx, id)
	if len(got.Data) > 0 {
		got.Data[0] = 'Y'
	}
	r := mustFind(t, s, id, "original")
	data = []byte("updated")
	update(t, s, sessions.Record{ID: id, Data: data, TTL: time.Hour, Version: r.Version})
	copy(data, "XXXXXXX")
	mustFind(t, s, id, "updated")
}

func testUpdate(t *testing.T, s sessions.Store) {
	id, user := NewID(), newUser()
	r := rec(id, "v1", time.Hour)
	r.UserID = user
	create(t, s, r)
	for i, v := range []string{"v2", "", "v3-longer-value"} {
		r := rec(id, v, time.Hour)
		r.UserID, r.Version = user, uint64(i+1)
		update(t, s, r)
		got := mustFind(t, s, id, v)
		if got.Version != uint64(i+2) || got.UserID != user {
			t.Fatalf("Find after Update of version %d: Version %d, UserID %q; want %d, %q",
				i+1, got.Version, got.UserID, i+2, user)
		}
	}
	// Update may change the user, or make the session anonymous.
	r = rec(id, "anon", time.Hour)
	r.Version = 4
	update(t, s, r)
	if got := mustFind(t, s, id, "anon"); got.UserID != "" || got.Version != 5 {
		t.Fatalf("Find after anonymous Update: UserID %q, Version %d; want \"\", 5", got.UserID, got.Version)
	}
}

func testUpdateMissing(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	for _, v := range []uint64{0, 1, 2} {
		r := rec(id, "ghost", time.Hour)
		r.Version = v
		// found=false, not ErrConflict: the middleware would retry a
		// conflict forever.
		if found, err := s.Update(ctx, r); err != nil || found {
			t.Fatalf("Update of unknown id (version %d) = %v, %v; want false, nil", v, found, err)
		}
	}
	mustNotFind(t, s, id)

	// The logout race: a record deleted while a request ran must stay
	// deleted when that request saves.
	create(t, s, rec(id, "live", time.Hour))
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	late := rec(id, "late write", time.Hour)
	late.Version = 1
	if found, err := s.Update(ctx, late); err != nil || found {
		t.Fatalf("Update after Delete = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, id)
	// And the id is free again, starting from version 1.
	create(t, s, rec(id, "again", time.Hour))
	if got := mustFind(t, s, id, "again"); got.Version != 1 {
		t.Fatalf("Version after re-Create = %d; want 1", got.Version)
	}
}

func testDelete(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	a, b := NewID(), NewID()
	for _, id := range []string{a, b} {
		create(t, s, rec(id, id, time.Hour))
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

func testCanceled(t *testing.T, s sessions.Store) {
	id := NewID()
	create(t, s, rec(id, "kept", time.Hour))
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if _, found, err := s.Find(dead, id); err == nil || found {
		t.Errorf("Find with canceled ctx = %v, %v; want an error", found, err)
	}
	other := NewID()
	if err := s.Create(dead, rec(other, "x", time.Hour)); err == nil {
		t.Errorf("Create with canceled ctx = nil; want an error")
	}
	over := rec(id, "overwritten", time.Hour)
	over.Version = 1
	if found, err := s.Update(dead, over); err == nil || found {
		t.Errorf("Update with canceled ctx = %v, %v; want an error", found, err)
	}
	if err := s.Delete(dead, id); err == nil {
		t.Errorf("Delete with canceled ctx = nil; want an error")
	}
	if got := mustFind(t, s, id, "kept"); got.Version != 1 {
		t.Errorf("Version after canceled calls = %d; want 1", got.Version)
	}
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
