// Package sqltest holds the tests the SQL stores (pgstore, mysqlstore,
// sqlitestore) share, written once against Store: the benchmarks of Find,
// Create and Update, the cleanup tests and the fault tests. Each store's
// test functions call them with its store and, where the SQL differs, the
// statements as functions.
package sqltest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/sessionstest"
)

// Store is what every SQL store offers.
type Store interface {
	sessions.UserStore
	Cleanup(ctx context.Context) (int, error)
	Migrate(ctx context.Context) error
	Close() error
}

// ctxT is a context that ends with the test, or after 30 seconds.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Payload is a typical session: a user, a CSRF token, a few preferences.
var Payload = []byte(`{"_user_id":"alice","_fresh":true,"csrf":"9f86d081884c7d659a2feaa0c55ad015","lang":"en","cart":[1,2,3]}`)

// BenchFind measures Find of a live record.
func BenchFind(b *testing.B, s Store) {
	ctx := ctxT(b)
	id := sessionstest.NewID()
	require.NoError(b, s.Create(ctx, sessions.Record{ID: id, Data: Payload, TTL: time.Hour, UserID: "alice"}))
	for b.Loop() {
		if _, found, err := s.Find(ctx, id); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

// BenchCreate measures Create of a new record.
func BenchCreate(b *testing.B, s Store) {
	ctx := ctxT(b)
	for b.Loop() {
		if err := s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: Payload, TTL: time.Hour, UserID: "alice"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchUpdate measures Update of a live record at its current version.
func BenchUpdate(b *testing.B, s Store) {
	ctx := ctxT(b)
	rec := sessions.Record{ID: sessionstest.NewID(), Data: Payload, TTL: time.Hour, UserID: "alice"}
	require.NoError(b, s.Create(ctx, rec))
	rec.Version = 1
	for b.Loop() {
		if found, err := s.Update(ctx, rec); err != nil || !found {
			b.Fatal(found, err)
		}
		rec.Version++
	}
}

// CleanupDeletesExpiredRows checks that Cleanup deletes every expired row,
// in more than one batch, and no live one. s must have no background
// cleanup; insertExpired inserts n expired rows into its table, count
// counts the rows of its table.
func CleanupDeletesExpiredRows(t *testing.T, s Store, batch int, insertExpired func(ctx context.Context, n int) error, count func(ctx context.Context) (int, error)) {
	ctx := ctxT(t)
	rows := func() int {
		n, err := count(ctx)
		require.NoError(t, err)
		return n
	}
	expired := batch + 5 // more than one batch
	require.NoError(t, insertExpired(ctx, expired))
	live := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: live, Data: []byte("live"), TTL: time.Hour}))
	require.Equal(t, expired+1, rows())

	n, err := s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Equal(t, expired, n)
	assert.Equal(t, 1, rows())
	_, found, err := s.Find(ctx, live)
	require.NoError(t, err)
	assert.True(t, found)

	n, err = s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// BackgroundCleanup checks that a store whose cleanup interval is 50ms
// deletes an expired row by itself, that Close stops it (twice without
// error), and that the store still works after Close. count counts the
// rows of the store's table.
func BackgroundCleanup(t *testing.T, s Store, count func(ctx context.Context) (int, error)) {
	ctx := ctxT(t)
	require.NoError(t, s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: 100 * time.Millisecond}))
	require.Eventually(t, func() bool {
		n, err := count(ctx)
		require.NoError(t, err)
		return n == 0
	}, 10*time.Second, 20*time.Millisecond, "the expired row was never deleted")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close")
	// Closed, the store still works (preparing its statements again, if
	// it prepares them); only the cleanup stopped.
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour}))
	_, found, err := s.Find(ctx, id)
	require.NoError(t, err)
	assert.True(t, found)
}

// Calls is every method of the store, each returning its error. Find and
// Update also fail when they report found=true or found=false with a nil
// error: a database that went away or failed is not a missing record.
func Calls(s Store, id string) map[string]func(ctx context.Context) error {
	rec := sessions.Record{ID: id, Data: []byte("new"), TTL: time.Hour, UserID: "fault-user", Version: 1}
	return map[string]func(ctx context.Context) error{
		"Find": func(ctx context.Context) error {
			_, found, err := s.Find(ctx, id)
			if err == nil {
				return fmt.Errorf("nil error, found=%v", found)
			}
			return err
		},
		"Create": func(ctx context.Context) error {
			return s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: time.Hour})
		},
		"Update": func(ctx context.Context) error {
			found, err := s.Update(ctx, rec)
			if err == nil {
				return fmt.Errorf("nil error, found=%v", found)
			}
			return err
		},
		"Delete":       func(ctx context.Context) error { return s.Delete(ctx, id) },
		"UserSessions": func(ctx context.Context) error { _, err := s.UserSessions(ctx, "fault-user"); return err },
		"DeleteUser":   func(ctx context.Context) error { return s.DeleteUser(ctx, "fault-user") },
		"Cleanup":      func(ctx context.Context) error { _, err := s.Cleanup(ctx); return err },
		"Migrate":      func(ctx context.Context) error { return s.Migrate(ctx) },
	}
}

// CreateFaultRecord creates the live record of fault-user the fault tests
// work on, and returns its id.
func CreateFaultRecord(t *testing.T, s Store) string {
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: id, Data: []byte("old"), TTL: time.Hour, UserID: "fault-user"}))
	return id
}

// DatabaseGone checks that, with every connection through p cut, every
// method of s fails, and that once p is restored s recovers with record
// id (made by CreateFaultRecord) intact.
func DatabaseGone(t *testing.T, s Store, p *testkit.Proxy, id string) {
	p.Cut()
	for name, call := range Calls(s, id) {
		assert.Error(t, call(ctxT(t)), "%s with the database gone", name)
	}
	// Back again, the store recovers and nothing was lost.
	p.Restore()
	got, found, err := s.Find(ctxT(t), id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "old", string(got.Data))
}

// DatabaseStalled checks that, with all traffic through p held, every
// method of s returns the deadline's error at its context's deadline, and
// that once p is restored s works again.
func DatabaseStalled(t *testing.T, s Store, p *testkit.Proxy, id string) {
	p.Stall()
	for name, call := range Calls(s, id) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := call(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%s with the database stalled", name)
	}
	// Back again, the store recovers. (The writes that timed out may
	// still reach the server now: the old record may be gone.)
	p.Restore()
	fresh := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: fresh, Data: []byte("x"), TTL: time.Hour}))
	_, found, err := s.Find(ctxT(t), fresh)
	require.NoError(t, err)
	assert.True(t, found)
}
