package sessionstest

//lint:file-ignore ST1005 failure messages start with the name of the Store method or the request that failed
import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// This file checks Record.Version and the compare-and-set of Update.

func testCreateVersion(t *testing.T, s sessions.Store) {
	id, user := NewID(), newUser()
	r := rec(id, "data", time.Hour)
	r.UserID, r.Version = user, 42 // Create ignores the Version it is given
	create(t, s, r)
	got := mustFind(t, s, id, "data")
	if got.Version != 1 || got.UserID != user {
		t.Fatalf("Find after Create: Version %d, UserID %q; want 1, %q", got.Version, got.UserID, user)
	}
}

// testUpdateStale checks that an Update naming a version other than the
// stored one reports ErrConflict and writes nothing.
func testUpdateStale(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id, user := NewID(), newUser()
	r := rec(id, "v1", time.Hour)
	r.UserID = user
	create(t, s, r)
	r = rec(id, "v2", time.Hour)
	r.UserID, r.Version = user, 1
	update(t, s, r)
	for _, v := range []uint64{0, 1, 3, 1 << 63} {
		stale := rec(id, "stale write", time.Hour)
		stale.UserID, stale.Version = newUser(), v
		if _, err := s.Update(ctx, stale); !errors.Is(err, sessions.ErrConflict) {
			t.Fatalf("Update with version %d over version 2 = %v; want ErrConflict", v, err)
		}
		got := mustFind(t, s, id, "v2")
		if got.Version != 2 || got.UserID != user {
			t.Fatalf("after a conflicting Update: Version %d, UserID %q; want 2, %q", got.Version, got.UserID, user)
		}
	}
	if us, ok := s.(sessions.UserStore); ok {
		checkUser(t, us, user, id)
	}
}

// testUpdateRace runs Updates of one version at once: exactly one wins.
func testUpdateRace(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	id := NewID()
	create(t, s, rec(id, "start", time.Hour))
	const n = 16
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := rec(id, fmt.Sprint(i), time.Hour)
			r.Version = 1
			found, err := s.Update(ctx, r)
			if err == nil && !found {
				err = errors.New("found=false for a live record")
			}
			results[i] = err
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Update of version 1 succeeded twice (%d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, sessions.ErrConflict):
			t.Fatalf("Update = %v; want nil or ErrConflict", err)
		}
	}
	if winner < 0 {
		t.Fatal("no Update succeeded")
	}
	if got := mustFind(t, s, id, fmt.Sprint(winner)); got.Version != 2 {
		t.Fatalf("Version = %d; want 2", got.Version)
	}
}

// testIncrements has goroutines increment a counter in one record by
// read-modify-write, retrying on ErrConflict, as the middleware does: no
// increment may be lost.
func testIncrements(t *testing.T, s sessions.Store) {
	id := NewID()
	create(t, s, rec(id, "0", time.Hour))
	const goroutines, each = 20, 10
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				if err := increment(t, s, id); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := mustFind(t, s, id, fmt.Sprint(goroutines*each))
	if got.Version != goroutines*each+1 {
		t.Fatalf("Version = %d; want %d", got.Version, goroutines*each+1)
	}
}

// increment adds one to the counter in id, retrying on conflict.
func increment(t *testing.T, s sessions.Store, id string) error {
	ctx := ctxT(t)
	for range 10_000 {
		r, found, err := s.Find(ctx, id)
		if err != nil || !found {
			return fmt.Errorf("Find = %v, %v; want true, nil", found, err)
		}
		n, err := strconv.Atoi(string(r.Data))
		if err != nil {
			return fmt.Errorf("Find: data %q is not the counter", r.Data)
		}
		r.Data, r.TTL = strconv.AppendInt(nil, int64(n+1), 10), time.Hour
		found, err = s.Update(ctx, r)
		switch {
		case errors.Is(err, sessions.ErrConflict):
			continue
		case err != nil || !found:
			return fmt.Errorf("Update = %v, %v; want true, nil or ErrConflict", found, err)
		}
		return nil
	}
	return errors.New("Update conflicted 10000 times in a row")
}
