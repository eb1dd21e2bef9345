package mysqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCleanupDeletesExpiredRows(t *testing.T) {
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(0))
	ctx := ctxT(t)
	count := func() int {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM `"+table+"`").Scan(&n))
		return n
	}
	const expired = mysqlstore.CleanupBatch + 5 // more than one batch
	args := make([]any, expired)
	for i := range args {
		args[i] = []byte(sessionstest.NewID())
	}
	_, err := db.ExecContext(ctx, "INSERT INTO `"+table+"` (id, data, expires, version) VALUES "+
		strings.TrimSuffix(strings.Repeat("(?, '', UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, 1),", expired), ","), args...)
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
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(50*time.Millisecond))
	ctx := ctxT(t)
	require.NoError(t, s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: 100 * time.Millisecond}))
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM `"+table+"`").Scan(&n))
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
