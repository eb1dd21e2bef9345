package sqlitestore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/sqlitestore"
)

// rowCount counts the rows of the default table.
func rowCount(db *sql.DB) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n)
		return n, err
	}
}

func TestCleanupDeletesExpiredRows(t *testing.T) {
	s, db, _ := newStore(t, sqlitestore.WithCleanupInterval(0))
	insertExpired := func(ctx context.Context, n int) error {
		_, err := db.ExecContext(ctx, `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
		INSERT INTO sessions (id, data, expires, version)
		SELECT randomblob(32), x'', CAST(unixepoch('subsec') * 1000 AS INTEGER) - 1000, 1 FROM g`, n)
		return err
	}
	sqltest.CleanupDeletesExpiredRows(t, s, sqlitestore.CleanupBatch, insertExpired, rowCount(db))
}

func TestBackgroundCleanup(t *testing.T) {
	s, db, _ := newStore(t, sqlitestore.WithCleanupInterval(50*time.Millisecond))
	sqltest.BackgroundCleanup(t, s, rowCount(db))
}
