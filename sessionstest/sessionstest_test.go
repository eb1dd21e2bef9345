package sessionstest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/ctxsession/sessions/sessionstest"
)

func TestMemstorePasses(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Broken stores, each breaking one rule. The suite must fail each of them.

// recreating lets Update write a record that does not exist.
type recreating struct{ *memstore.Store }

func (s recreating) Update(ctx context.Context, r sessions.Record) (bool, error) {
	if found, err := s.Store.Update(ctx, r); found || err != nil {
		return found, err
	}
	return true, s.Store.Create(ctx, r)
}

// conflictWhenGone reports a missing record as a conflict.
type conflictWhenGone struct{ *memstore.Store }

func (s conflictWhenGone) Update(ctx context.Context, r sessions.Record) (bool, error) {
	found, err := s.Store.Update(ctx, r)
	if err == nil && !found {
		return false, sessions.ErrConflict
	}
	return found, err
}

// deaf ignores cancellation.
type deaf struct{ *memstore.Store }

func (s deaf) Find(_ context.Context, id string) (sessions.Record, bool, error) {
	return s.Store.Find(context.Background(), id)
}

// immortal ignores the TTL.
type immortal struct{ *memstore.Store }

func (s immortal) Create(ctx context.Context, r sessions.Record) error {
	r.TTL = time.Hour
	return s.Store.Create(ctx, r)
}

// overwriting lets Create replace an existing record.
type overwriting struct{ *memstore.Store }

func (s overwriting) Create(ctx context.Context, r sessions.Record) error {
	s.Store.Delete(ctx, r.ID)
	return s.Store.Create(ctx, r)
}

// blind ignores the version Update is given: the last writer wins.
type blind struct{ *memstore.Store }

func (s blind) Update(ctx context.Context, r sessions.Record) (bool, error) {
	cur, found, err := s.Store.Find(ctx, r.ID)
	if err != nil || !found {
		return found, err
	}
	r.Version = cur.Version
	return s.Store.Update(ctx, r)
}

// racy compares the version, then writes, with a gap between the two.
type racy struct{ *memstore.Store }

func (s racy) Update(ctx context.Context, r sessions.Record) (bool, error) {
	cur, found, err := s.Store.Find(ctx, r.ID)
	if err != nil || !found {
		return found, err
	}
	if cur.Version != r.Version {
		return true, sessions.ErrConflict
	}
	time.Sleep(20 * time.Millisecond)
	return blind(s).Update(ctx, r)
}

// unversioned never reports a record's version.
type unversioned struct{ *memstore.Store }

func (s unversioned) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	r, found, err := s.Store.Find(ctx, id)
	r.Version = 0
	return r, found, err
}

// leakyIndex forgets to delete records in DeleteUser.
type leakyIndex struct{ *memstore.Store }

func (s leakyIndex) DeleteUser(context.Context, string) error { return nil }

// unpruned lists every session a user ever created, live or not.
type unpruned struct {
	*memstore.Store
	mu   *sync.Mutex
	seen map[string][]string
}

func newUnpruned() unpruned {
	return unpruned{memstore.New(), new(sync.Mutex), make(map[string][]string)}
}

func (s unpruned) Create(ctx context.Context, r sessions.Record) error {
	err := s.Store.Create(ctx, r)
	if err == nil && r.UserID != "" {
		s.mu.Lock()
		s.seen[r.UserID] = append(s.seen[r.UserID], r.ID)
		s.mu.Unlock()
	}
	return err
}

func (s unpruned) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen[user]...), nil
}

func (s unpruned) DeleteUser(ctx context.Context, user string) error {
	return s.Store.DeleteUser(ctx, user)
}

var broken = map[string]struct {
	store    func() sessions.Store
	failures []string // subtests that must fail
}{
	"recreating":       {func() sessions.Store { return recreating{memstore.New()} }, []string{"UpdateNeverRecreates"}},
	"conflictWhenGone": {func() sessions.Store { return conflictWhenGone{memstore.New()} }, []string{"UpdateNeverRecreates", "ExpiresAfterTTL"}},
	"deaf":             {func() sessions.Store { return deaf{memstore.New()} }, []string{"CanceledContext"}},
	"immortal":         {func() sessions.Store { return immortal{memstore.New()} }, []string{"ExpiresAfterTTL", "UserIndexPruned"}},
	"overwriting":      {func() sessions.Store { return overwriting{memstore.New()} }, []string{"CreateExists", "ConcurrentCreateOneWins"}},
	"blind":            {func() sessions.Store { return blind{memstore.New()} }, []string{"UpdateStaleVersion", "ConcurrentUpdateOneWins"}},
	"racy":             {func() sessions.Store { return racy{memstore.New()} }, []string{"ConcurrentUpdateOneWins"}},
	"unversioned":      {func() sessions.Store { return unversioned{memstore.New()} }, []string{"CreateVersionOne", "UpdateReplaces", "ConcurrentIncrements"}},
	"leakyIndex":       {func() sessions.Store { return leakyIndex{memstore.New()} }, []string{"UserIndex"}},
	"unpruned":         {func() sessions.Store { return newUnpruned() }, []string{"UserIndexPruned"}},
}

// TestBrokenStoreHelper runs the suite on one broken store when asked to
// by TestSuiteCatchesBrokenStores; otherwise it does nothing.
func TestBrokenStoreHelper(t *testing.T) {
	name := os.Getenv("SESSIONSTEST_BROKEN")
	if name == "" {
		return
	}
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return broken[name].store() })
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "SESSIONSTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that breaks the contract:\n%s", out)
			}
			for _, sub := range b.failures {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenStoreHelper/"+sub+" ") {
					t.Errorf("subtest %s did not fail:\n%s", sub, out)
				}
			}
		})
	}
}
