package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rowCount counts the rows of table.
func rowCount(pool *pgxpool.Pool, table string) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&n)
		return n, err
	}
}

func TestCleanupDeletesExpiredRows(t *testing.T) {
	s, pool, table := newStore(t, pgstore.WithCleanupInterval(0))
	insertExpired := func(ctx context.Context, n int) error {
		_, err := pool.Exec(ctx, `INSERT INTO "`+table+`" (id, data, expires, version)
		SELECT decode(md5(g::text), 'hex'), '', now() - interval '1 second', 1 FROM generate_series(1, $1) g`, n)
		return err
	}
	sqltest.CleanupDeletesExpiredRows(t, s, pgstore.CleanupBatch, insertExpired, rowCount(pool, table))
}

func TestBackgroundCleanup(t *testing.T) {
	s, pool, table := newStore(t, pgstore.WithCleanupInterval(50*time.Millisecond))
	sqltest.BackgroundCleanup(t, s, rowCount(pool, table))
}
