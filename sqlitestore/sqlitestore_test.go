package sqlitestore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openDB opens path with sqlitestore.Open, closed when the test ends.
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sqlitestore.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore returns a migrated store on a new database file, and the file.
func newStore(t testing.TB, opts ...sqlitestore.Option) (*sqlitestore.Store, *sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessions.db")
	db := openDB(t, path)
	s := sqlitestore.New(db, opts...)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctxT(t)))
	return s, db, path
}

func TestConformance(t *testing.T) {
	_, db, _ := newStore(t)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := sqlitestore.New(db)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMiddlewareMerge(t *testing.T) {
	_, db, _ := newStore(t)
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		s := sqlitestore.New(db, sqlitestore.WithCleanupInterval(0))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestNewPanics(t *testing.T) {
	assert.PanicsWithValue(t, "sqlitestore: nil db", func() { sqlitestore.New(nil) })
}

// TestSharedDatabase runs two stores, each with a db of its own, on one
// file, as two processes would.
func TestSharedDatabase(t *testing.T) {
	a, _, path := newStore(t)
	b := sqlitestore.New(openDB(t, path))
	t.Cleanup(func() { b.Close() })
	sqltest.SharedDatabase(t, a, b)
}

// TestWritersShareTheFile has goroutines of two dbs on one file, as of two
// processes, increment a counter by read-modify-write: writers wait for
// each other (busy timeout) instead of failing, and no increment is lost.
func TestWritersShareTheFile(t *testing.T) {
	_, _, path := newStore(t)
	stores := []*sqlitestore.Store{sqlitestore.New(openDB(t, path)), sqlitestore.New(openDB(t, path))}
	ctx := ctxT(t)
	id := sessionstest.NewID()
	require.NoError(t, stores[0].Create(ctx, sessions.Record{ID: id, Data: []byte("0"), TTL: time.Hour}))
	const goroutines, each = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		s := stores[g%2]
		wg.Go(func() {
			for range each {
				if err := increment(ctx, s, id); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, found, err := stores[1].Find(ctx, id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, strconv.Itoa(goroutines*each), string(got.Data))
	assert.Equal(t, uint64(goroutines*each+1), got.Version)
}

// increment adds one to the counter in id, retrying on conflict.
func increment(ctx context.Context, s *sqlitestore.Store, id string) error {
	for {
		r, found, err := s.Find(ctx, id)
		if err != nil || !found {
			return fmt.Errorf("Find = %v, %v", found, err)
		}
		n, err := strconv.Atoi(string(r.Data))
		if err != nil {
			return err
		}
		r.Data, r.TTL = []byte(strconv.Itoa(n+1)), time.Hour
		found, err = s.Update(ctx, r)
		if errors.Is(err, sessions.ErrConflict) {
			continue
		}
		if err != nil || !found {
			return fmt.Errorf("Update = %v, %v", found, err)
		}
		return nil
	}
}

// TestExpiryBySQLiteClock checks that expires is SQLite's clock plus the
// TTL.
func TestExpiryBySQLiteClock(t *testing.T) {
	s, db, _ := newStore(t)
	ctx := ctxT(t)
	clock := `SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER)`
	var before, after, expires int64
	require.NoError(t, db.QueryRowContext(ctx, clock).Scan(&before))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: 90 * time.Minute}))
	require.NoError(t, db.QueryRowContext(ctx, clock).Scan(&after))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT expires FROM sessions WHERE id = ?`, []byte(id)).Scan(&expires))
	ttl := (90 * time.Minute).Milliseconds()
	assert.GreaterOrEqual(t, expires, before+ttl)
	assert.LessOrEqual(t, expires, after+ttl)
}

// TestDestroyUser ends every session of one user through the middleware,
// and only those.
func TestDestroyUser(t *testing.T) {
	s, _, _ := newStore(t)
	sqltest.DestroyUser(t, s, "alice", "bob")
}

// counting wraps the SQLite driver and counts the statements executed.
type counting struct {
	drv driver.Driver
	dsn string
	n   *atomic.Int64
}

func (c counting) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c.n}, nil
}

func (c counting) Driver() driver.Driver { return c.drv }

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) Prepare(query string) (driver.Stmt, error) {
	st, err := c.Conn.Prepare(query)
	return countingStmt{st, c.n}, err
}

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.n.Add(1)
	//lint:ignore SA1019 the wrapped driver.Stmt is called through its interface
	return s.Stmt.Exec(args)
}

func (s countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.Add(1)
	//lint:ignore SA1019 the wrapped driver.Stmt is called through its interface
	return s.Stmt.Query(args)
}

// TestStatementsPerCall pins how many statements each method executes.
func TestStatementsPerCall(t *testing.T) {
	_, db, path := newStore(t)
	var n atomic.Int64
	cdb := sql.OpenDB(counting{db.Driver(), "file:" + path + "?_pragma=busy_timeout(5000)", &n})
	t.Cleanup(func() { cdb.Close() })
	s := sqlitestore.New(cdb, sqlitestore.WithCleanupInterval(0))
	t.Cleanup(func() { s.Close() })
	sqltest.CountPerCall(t, s, n.Load, "statements", false)
}
