package sessionstest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
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

// deaf ignores cancellation.
type deaf struct{ *memstore.Store }

func (s deaf) Find(_ context.Context, id string) ([]byte, bool, error) {
	return s.Store.Find(context.Background(), id)
}

// immortal ignores expiry.
type immortal struct{ *memstore.Store }

func (s immortal) Create(ctx context.Context, r sessions.Record) error {
	r.Expiry = time.Now().Add(time.Hour)
	return s.Store.Create(ctx, r)
}

// overwriting lets Create replace an existing record.
type overwriting struct{ *memstore.Store }

func (s overwriting) Create(ctx context.Context, r sessions.Record) error {
	s.Store.Delete(ctx, r.ID)
	return s.Store.Create(ctx, r)
}

// leakyIndex forgets to delete records in DeleteUser.
type leakyIndex struct{ *memstore.Store }

func (s leakyIndex) DeleteUser(context.Context, string) error { return nil }

var broken = map[string]struct {
	store    func() sessions.Store
	failures []string // subtests that must fail
}{
	"recreating":  {func() sessions.Store { return recreating{memstore.New()} }, []string{"UpdateNeverRecreates"}},
	"deaf":        {func() sessions.Store { return deaf{memstore.New()} }, []string{"CanceledContext"}},
	"immortal":    {func() sessions.Store { return immortal{memstore.New()} }, []string{"ExpiredNotReturned", "ExpiresInTime"}},
	"overwriting": {func() sessions.Store { return overwriting{memstore.New()} }, []string{"CreateExists", "ConcurrentCreateOneWins"}},
	"leakyIndex":  {func() sessions.Store { return leakyIndex{memstore.New()} }, []string{"UserIndex"}},
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
