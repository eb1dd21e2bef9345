package mysqlstore_test

import (
	"context"
	"database/sql"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverAddr is the MySQL or MariaDB every test uses. A server that does
// not answer fails the tests; nothing is skipped.
const serverAddr = "127.0.0.1:3306"

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openDB connects to addr (the server, or a proxy in front of it) through
// network ("tcp", or a dialer registered with mysql.RegisterDialContext)
// and fails the test if the server does not answer. params are added to
// the DSN.
func openDB(t testing.TB, network, addr string, params ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", "root@"+network+"("+addr+")/test?timeout=5s&parseTime=true"+strings.Join(append([]string{""}, params...), "&"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, db.PingContext(ctx), "MySQL at %s does not answer (start MariaDB: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)", addr)
	return db
}

// newTable returns a fresh, migrated table name on db, dropped when the
// test ends.
func newTable(t testing.TB, db *sql.DB) string {
	t.Helper()
	table := sqltest.RandomTable()
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	require.NoError(t, s.Migrate(ctxT(t)))
	t.Cleanup(func() {
		_, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS `"+table+"`")
		assert.NoError(t, err)
	})
	return table
}

// newStore returns a store on a fresh table of the server.
func newStore(t testing.TB, opts ...mysqlstore.Option) (*mysqlstore.Store, *sql.DB, string) {
	t.Helper()
	db := openDB(t, "tcp", serverAddr)
	table := newTable(t, db)
	s := mysqlstore.New(db, append([]mysqlstore.Option{mysqlstore.WithTable(table)}, opts...)...)
	t.Cleanup(func() { s.Close() })
	return s, db, table
}

func TestConformance(t *testing.T) {
	db := openDB(t, "tcp", serverAddr)
	table := newTable(t, db)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := mysqlstore.New(db, mysqlstore.WithTable(table))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMiddlewareMerge(t *testing.T) {
	db := openDB(t, "tcp", serverAddr)
	table := newTable(t, db)
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestNewPanics(t *testing.T) {
	assert.PanicsWithValue(t, "mysqlstore: nil db", func() { mysqlstore.New(nil) })
}

// TestSharedDatabase runs two stores, with connection pools of their own,
// on one table, as two application instances would.
func TestSharedDatabase(t *testing.T) {
	a, _, table := newStore(t)
	b := mysqlstore.New(openDB(t, "tcp", serverAddr), mysqlstore.WithTable(table))
	t.Cleanup(func() { b.Close() })
	sqltest.SharedDatabase(t, a, b)
}

// TestExpiryByDatabaseClock checks that expires is the database's UTC time
// plus the TTL, whatever the Go process's clock or the connection's
// time_zone say.
func TestExpiryByDatabaseClock(t *testing.T) {
	db := openDB(t, "tcp", serverAddr, "time_zone=%27%2B05%3A00%27")
	table := newTable(t, db)
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	ctx := ctxT(t)
	var local, utc time.Time
	require.NoError(t, db.QueryRowContext(ctx, `SELECT NOW(), UTC_TIMESTAMP()`).Scan(&local, &utc))
	require.InDelta(t, 5*time.Hour, local.Sub(utc), float64(2*time.Second), "the connections' time_zone is +05:00")
	var before, after, expires time.Time
	require.NoError(t, db.QueryRowContext(ctx, `SELECT UTC_TIMESTAMP(6)`).Scan(&before))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: 90 * time.Minute}))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT UTC_TIMESTAMP(6)`).Scan(&after))
	require.NoError(t, db.QueryRowContext(ctx, "SELECT expires FROM `"+table+"` WHERE id = ?", []byte(id)).Scan(&expires))
	assert.False(t, expires.Before(before.Add(90*time.Minute)), "expires %v before the database's time at Create + TTL (%v)", expires, before.Add(90*time.Minute))
	assert.False(t, expires.After(after.Add(90*time.Minute)), "expires %v after the database's time after Create + TTL (%v)", expires, after.Add(90*time.Minute))
}

// TestDestroyUser ends every session of one user through the middleware,
// and only those.
func TestDestroyUser(t *testing.T) {
	s, _, _ := newStore(t)
	sqltest.DestroyUser(t, s, "alice-"+sessionstest.NewID()[:8], "bob-"+sessionstest.NewID()[:8])
}

// roundTrips counts the writes made on the "counting" connections: each
// is one round trip, as the client then waits for the server's answer.
var roundTrips atomic.Int64

func init() {
	d := &net.Dialer{}
	mysql.RegisterDialContext("counting", func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return testkit.CountWrites(c, &roundTrips), nil
	})
}

// TestRoundTrips pins the round trips of each method once its statements
// are prepared on the (single) connection.
func TestRoundTrips(t *testing.T) {
	db := openDB(t, "counting", serverAddr)
	db.SetMaxOpenConns(1)
	table := newTable(t, db)
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	t.Cleanup(func() { s.Close() })
	sqltest.CountPerCall(t, s, roundTrips.Load, "round trips", true)
}
