package sqlitestore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveStore returns a store with its statements prepared and a live record
// of fault-user.
func liveStore(t *testing.T) (*sqlitestore.Store, *sql.DB, string) {
	s, db, _ := newStore(t, sqlitestore.WithCleanupInterval(0))
	return s, db, sqltest.CreateFaultRecord(t, s)
}

func TestDatabaseClosed(t *testing.T) {
	s, db, id := liveStore(t)
	require.NoError(t, db.Close())
	for name, call := range sqltest.Calls(s, id) {
		assert.Error(t, call(ctxT(t)), "%s with the database closed", name)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.db")
	require.NoError(t, os.WriteFile(path, []byte("this is not an SQLite database, not at all, no header here"), 0o600))
	s := sqlitestore.New(openDB(t, path), sqlitestore.WithCleanupInterval(0))
	for name, call := range sqltest.Calls(s, sessionstest.NewID()) {
		assert.Error(t, call(ctxT(t)), "%s on a file that is not a database", name)
	}
}

// TestWriteLockPastDeadline holds the write lock in another connection,
// as a long transaction of another process would: writes wait for it until
// the call's deadline, not the busy timeout, return the deadline's error,
// and change nothing; reads go on (WAL).
func TestWriteLockPastDeadline(t *testing.T) {
	s, db, id := liveStore(t)
	conn, err := db.Conn(ctxT(t))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctxT(t), `BEGIN IMMEDIATE`)
	require.NoError(t, err)
	defer conn.ExecContext(context.Background(), `ROLLBACK`)

	for name, call := range sqltest.Calls(s, id) {
		if name == "Find" || name == "UserSessions" || name == "Migrate" {
			continue // reads, and a Migrate with nothing to do
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := call(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%s with the write lock held", name)
	}
	got, found, err := s.Find(ctxT(t), id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "old", string(got.Data))
	assert.Equal(t, uint64(1), got.Version)
}
