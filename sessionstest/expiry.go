package sessionstest

import (
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// This file checks Record.TTL: a record lives for its TTL from each write,
// by the store's clock.

// createShort creates a record with a short TTL and checks that it is found
// at once. It returns when it started writing. A machine too slow to read
// the record back within the TTL is not the store's fault: it tries again
// with a new r.ID.
func createShort(t *testing.T, s sessions.Store, r *sessions.Record) time.Time {
	t.Helper()
	for attempt := 0; ; attempt++ {
		start := time.Now()
		create(t, s, *r)
		_, found, err := s.Find(ctxT(t), r.ID)
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		if found {
			return start
		}
		if time.Since(start) < r.TTL || attempt == 5 {
			t.Fatalf("Find right after Create with TTL %v = false after %v; want true", r.TTL, time.Since(start))
		}
		r.ID = NewID()
	}
}

func testExpires(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	const ttl = 300 * time.Millisecond
	r := rec(NewID(), "short", ttl)
	start := createShort(t, s, &r)
	eventuallyGone(t, s, r.ID)
	if elapsed := time.Since(start); elapsed < ttl {
		t.Fatalf("record gone %v after Create; want its TTL %v", elapsed, ttl)
	}
	late := rec(r.ID, "late", time.Hour)
	late.Version = 1
	if found, err := s.Update(ctx, late); err != nil || found {
		t.Fatalf("Update after expiry = %v, %v; want false, nil", found, err)
	}
	mustNotFind(t, s, r.ID)
	// An expired id can be created afresh.
	create(t, s, rec(r.ID, "new", time.Hour))
	if got := mustFind(t, s, r.ID, "new"); got.Version != 1 {
		t.Fatalf("Version of a record created over an expired one = %d; want 1", got.Version)
	}
}

func testUpdateExtends(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	const short = 400 * time.Millisecond
	var id string
	var start time.Time
	for attempt := 0; ; attempt++ {
		id, start = NewID(), time.Now()
		create(t, s, rec(id, "a", short))
		r := rec(id, "b", time.Hour)
		r.Version = 1
		found, err := s.Update(ctx, r)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if found {
			break
		}
		if time.Since(start) < short || attempt == 5 {
			t.Fatalf("Update of a live record = false after %v; want true", time.Since(start))
		}
		// The machine was too slow to update within the short TTL: not
		// the store's fault, try again.
	}
	// Past the first TTL, the record lives on with its new one.
	time.Sleep(time.Until(start.Add(short + 100*time.Millisecond)))
	mustFind(t, s, id, "b")
	// And the reverse: a shorter TTL ends it sooner.
	r := rec(id, "c", 200*time.Millisecond)
	r.Version = 2
	update(t, s, r)
	eventuallyGone(t, s, id)
}
