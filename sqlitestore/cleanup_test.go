package sqlitestore_test

import (
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCleanupDeletesExpiredRows(t *testing.T) {
	s, db, _ := newStore(t, sqlitestore.WithCleanupInterval(0))
	ctx := ctxT(t)
	count := func() int {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		return n
	}
	const expired = sqlitestore.CleanupBatch + 5 // more than one batch
	_, err := db.ExecContext(ctx, `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
		INSERT INTO sessions (id, data, expires, version)
		SELECT randomblob(32), x'', CAST(unixepoch('subsec') * 1000 AS INTEGER) - 1000, 1 FROM g`, expired)
	require.NoError(t, err)
	live := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: live, Data: []byte("live"), TTL: time.Hour}))
	require.Equal(t, expired+1, count())

	n, err := s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Equal(t, expired, n)
	assert.Equal(t, 1, count())
	_, found, err := s.Find(ctx, live)
	require.NoError(t, err)
	assert.True(t, found)

	n, err = s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestBackgroundCleanup(t *testing.T) {
	s, db, _ := newStore(t, sqlitestore.WithCleanupInterval(50*time.Millisecond))
	ctx := ctxT(t)
	require.NoError(t, s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: 100 * time.Millisecond}))
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		return n == 0
	}, 10*time.Second, 20*time.Millisecond, "the expired row was never deleted")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close")
	// Closed, the store still works (preparing its statements again);
	// only the cleanup stopped.
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour}))
	_, found, err := s.Find(ctx, id)
	require.NoError(t, err)
	assert.True(t, found)
}
