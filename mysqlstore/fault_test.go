package mysqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultStore returns a store reaching the server through a proxy, and the
// id of a live record of fault-user in it.
func faultStore(t *testing.T) (*mysqlstore.Store, *testkit.Proxy, string) {
	p := testkit.StartProxy(t, serverAddr)
	db := openDB(t, "tcp", p.Addr())
	table := newTable(t, openDB(t, "tcp", serverAddr))
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	t.Cleanup(func() { s.Close() })
	return s, p, sqltest.CreateFaultRecord(t, s)
}

func TestDatabaseGone(t *testing.T) {
	s, p, id := faultStore(t)
	sqltest.DatabaseGone(t, s, p, id)
}

func TestDatabaseStalled(t *testing.T) {
	s, p, id := faultStore(t)
	sqltest.DatabaseStalled(t, s, p, id)
}

// TestRowLockedPastDeadline holds the record's row locked in another
// transaction, as a slow concurrent writer would: Update waits for it
// until the request's deadline, then returns the deadline's error. Whether
// the server still applies the abandoned UPDATE once the lock is released
// is not known to the caller (as with any database); either way the
// record is whole: the old data at version 1 or the new at version 2.
func TestRowLockedPastDeadline(t *testing.T) {
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(0))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: id, Data: []byte("old"), TTL: time.Hour}))
	tx, err := db.BeginTx(ctxT(t), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctxT(t), "SELECT 1 FROM `"+table+"` WHERE id = ? FOR UPDATE", []byte(id))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = s.Update(ctx, sessions.Record{ID: id, Data: []byte("new"), TTL: time.Hour, Version: 1})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, tx.Rollback())
	got, found, err := s.Find(ctxT(t), id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Contains(t, []string{"old 1", "new 2"}, fmt.Sprint(string(got.Data), " ", got.Version))
}
