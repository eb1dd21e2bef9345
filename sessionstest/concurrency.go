package sessionstest

//lint:file-ignore ST1005 failure messages start with the name of the Store method or the request that failed
import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// This file checks the store under concurrent use (run it with -race).

func testConcurrent(t *testing.T, s sessions.Store) {
	ctx := ctxT(t)
	shared := NewID()
	create(t, s, rec(shared, "0", time.Hour))
	user := newUser()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := concurrentStep(t, s, shared, user, g, i); err != nil {
					errs <- err
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
	r, found, err := s.Find(ctx, shared)
	if err != nil || !found || len(r.Data) != 1 || r.Data[0] < '0' || r.Data[0] > '7' {
		t.Fatalf("shared record = %q, %v, %v; want one writer's value", r.Data, found, err)
	}
	if us, ok := s.(sessions.UserStore); ok {
		checkUser(t, us, user)
	}
}

// concurrentStep creates, reads and deletes a record of its own, and
// writes the shared one (losing to other writers is fine).
func concurrentStep(t *testing.T, s sessions.Store, shared, user string, g, i int) error {
	ctx := ctxT(t)
	id := NewID()
	r := rec(id, fmt.Sprint(g, i), time.Hour)
	if i%2 == 0 {
		r.UserID = user
	}
	if err := s.Create(ctx, r); err != nil {
		return fmt.Errorf("Create: %w", err)
	}
	if got, found, err := s.Find(ctx, id); err != nil || !found || string(got.Data) != fmt.Sprint(g, i) || got.UserID != r.UserID {
		return fmt.Errorf("Find own record = %q, %v, %v", got.Data, found, err)
	}
	cur, found, err := s.Find(ctx, shared)
	if err != nil || !found {
		return fmt.Errorf("Find shared = %v, %v", found, err)
	}
	w := rec(shared, fmt.Sprint(g), time.Hour)
	w.Version = cur.Version
	if found, err := s.Update(ctx, w); !errors.Is(err, sessions.ErrConflict) && (err != nil || !found) {
		return fmt.Errorf("Update shared = %v, %v", found, err)
	}
	if us, ok := s.(sessions.UserStore); ok && i%5 == 0 {
		if _, err := us.UserSessions(ctx, user); err != nil {
			return fmt.Errorf("UserSessions: %w", err)
		}
	}
	if err := s.Delete(ctx, id); err != nil {
		return fmt.Errorf("Delete: %w", err)
	}
	return nil
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
	if got := mustFind(t, s, id, fmt.Sprint(winner)); got.Version != 1 {
		t.Fatalf("Version = %d; want 1", got.Version)
	}
}
