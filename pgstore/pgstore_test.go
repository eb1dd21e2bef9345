package pgstore_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverAddr is the PostgreSQL every test uses. A server that does not
// answer fails the tests; nothing is skipped.
const serverAddr = "127.0.0.1:5432"

func dsn(addr string) string {
	return "postgres://postgres@" + addr + "/test?sslmode=disable&connect_timeout=5"
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newPool connects to addr (the server, or a proxy in front of it) and
// fails the test if the server does not answer. Each mod changes the
// pool's configuration first.
func newPool(t testing.TB, addr string, mods ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(addr))
	require.NoError(t, err)
	for _, mod := range mods {
		mod(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, pool.Ping(ctx), "PostgreSQL at %s does not answer (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", addr)
	return pool
}

// newTable returns a fresh, migrated table name on pool, dropped when the
// test ends.
func newTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	table := sqltest.RandomTable()
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	require.NoError(t, s.Migrate(ctxT(t)))
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), `DROP TABLE IF EXISTS "`+table+`"`)
		assert.NoError(t, err)
	})
	return table
}

// newStore returns a store on a fresh table of the server.
func newStore(t testing.TB, opts ...pgstore.Option) (*pgstore.Store, *pgxpool.Pool, string) {
	t.Helper()
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	s := pgstore.New(pool, append([]pgstore.Option{pgstore.WithTable(table)}, opts...)...)
	t.Cleanup(func() { s.Close() })
	return s, pool, table
}

func TestConformance(t *testing.T) {
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := pgstore.New(pool, pgstore.WithTable(table))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMiddlewareMerge(t *testing.T) {
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		return pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	})
}

func TestNewPanics(t *testing.T) {
	assert.PanicsWithValue(t, "pgstore: nil pool", func() { pgstore.New(nil) })
}

// TestSharedDatabase runs two stores, with pools of their own, on one
// table, as two application instances would.
func TestSharedDatabase(t *testing.T) {
	a, _, table := newStore(t)
	b := pgstore.New(newPool(t, serverAddr), pgstore.WithTable(table))
	t.Cleanup(func() { b.Close() })
	sqltest.SharedDatabase(t, a, b)
}

// TestExpiryByDatabaseClock checks that expires is the database's now()
// plus the TTL, whatever the Go process's clock says.
func TestExpiryByDatabaseClock(t *testing.T) {
	s, pool, table := newStore(t)
	ctx := ctxT(t)
	var before, after time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&before))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: 90 * time.Minute}))
	require.NoError(t, pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&after))
	var expires time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT expires FROM "`+table+`" WHERE id = $1`, []byte(id)).Scan(&expires))
	assert.False(t, expires.Before(before.Add(90*time.Minute)), "expires %v before the database's time at Create + TTL (%v)", expires, before.Add(90*time.Minute))
	assert.False(t, expires.After(after.Add(90*time.Minute)), "expires %v after the database's time after Create + TTL (%v)", expires, after.Add(90*time.Minute))
}

// TestDestroyUser ends every session of one user through the middleware,
// and only those.
func TestDestroyUser(t *testing.T) {
	s, _, _ := newStore(t)
	sqltest.DestroyUser(t, s, "alice-"+sessionstest.NewID()[:8], "bob-"+sessionstest.NewID()[:8])
}

// counting makes a pool of one connection that counts its writes in n:
// each is one round trip, as the client then waits for the server's
// answer.
func counting(n *atomic.Int64) func(*pgxpool.Config) {
	return func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		d := &net.Dialer{}
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return testkit.CountWrites(c, n), nil
		}
	}
}

// TestRoundTrips pins the round trips of each method once its statements
// are prepared on the pool's connection.
func TestRoundTrips(t *testing.T) {
	var n atomic.Int64
	pool := newPool(t, serverAddr, counting(&n))
	table := newTable(t, pool)
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	sqltest.CountPerCall(t, s, n.Load, "round trips", true)
}
