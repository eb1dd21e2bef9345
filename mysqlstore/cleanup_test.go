package mysqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/sessionstest"
)

// rowCount counts the rows of table.
func rowCount(db *sql.DB, table string) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM `"+table+"`").Scan(&n)
		return n, err
	}
}

func TestCleanupDeletesExpiredRows(t *testing.T) {
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(0))
	insertExpired := func(ctx context.Context, n int) error {
		args := make([]any, n)
		for i := range args {
			args[i] = []byte(sessionstest.NewID())
		}
		_, err := db.ExecContext(ctx, "INSERT INTO `"+table+"` (id, data, expires, version) VALUES "+
			strings.TrimSuffix(strings.Repeat("(?, '', UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, 1),", n), ","), args...)
		return err
	}
	sqltest.CleanupDeletesExpiredRows(t, s, mysqlstore.CleanupBatch, insertExpired, rowCount(db, table))
}

func TestBackgroundCleanup(t *testing.T) {
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(50*time.Millisecond))
	sqltest.BackgroundCleanup(t, s, rowCount(db, table))
}
