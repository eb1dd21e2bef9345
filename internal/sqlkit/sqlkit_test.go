package sqlkit_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions/internal/sqlkit"
)

func TestCheckTable(t *testing.T) {
	for _, ok := range []string{"sessions", "_x", "A1_b", "a" + strings.Repeat("b", 47)} {
		assert.NoError(t, sqlkit.CheckTable("pkg", ok), ok)
	}
	for _, bad := range []string{"", "1a", "a-b", `a"b`, "a`b", "a b", "é", "a;DROP", "a" + strings.Repeat("b", 48)} {
		err := sqlkit.CheckTable("pkg", bad)
		require.Error(t, err, bad)
		assert.True(t, strings.HasPrefix(err.Error(), "pkg: invalid table name "), err.Error())
	}
}

func TestCleanupBatches(t *testing.T) {
	left := 25
	var limits []int
	n, err := sqlkit.Cleanup(context.Background(), 10, func(_ context.Context, limit int) (int64, error) {
		limits = append(limits, limit)
		d := min(left, limit)
		left -= d
		return int64(d), nil
	})
	require.NoError(t, err)
	assert.Equal(t, 25, n)
	assert.Equal(t, []int{10, 10, 10}, limits)

	// An exact multiple takes one more, empty, batch.
	left, limits = 20, nil
	n, err = sqlkit.Cleanup(context.Background(), 10, func(_ context.Context, limit int) (int64, error) {
		limits = append(limits, limit)
		d := min(left, limit)
		left -= d
		return int64(d), nil
	})
	require.NoError(t, err)
	assert.Equal(t, 20, n)
	assert.Len(t, limits, 3)
}

func TestCleanupError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	n, err := sqlkit.Cleanup(context.Background(), 10, func(context.Context, int) (int64, error) {
		calls++
		if calls == 2 {
			return 0, boom
		}
		return 10, nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 10, n, "the rows deleted before the error")
}

// syncBuffer is a bytes.Buffer safe for the cleaner's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCleanerRunsAndLogs(t *testing.T) {
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	var runs atomic.Int32
	c := sqlkit.StartCleaner(10*time.Millisecond, func(ctx context.Context) (int, error) {
		_, ok := ctx.Deadline()
		if !ok {
			return 0, errors.New("no deadline")
		}
		runs.Add(1)
		return 0, errors.New("disk on fire")
	}, log, "pkg", "tbl")
	require.Eventually(t, func() bool { return runs.Load() >= 2 }, 10*time.Second, 5*time.Millisecond)
	c.Stop()
	c.Stop() // a second Stop does nothing
	n := runs.Load()
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, n, runs.Load(), "no run after Stop")
	out := logged.String()
	assert.Contains(t, out, "level=ERROR")
	assert.Contains(t, out, `msg="pkg: background cleanup failed"`)
	assert.Contains(t, out, "table=tbl")
	assert.Contains(t, out, `err="disk on fire"`)
	assert.NotContains(t, out, "no deadline", "each run is bounded by the interval")
}

func TestCleanerStopCancelsRun(t *testing.T) {
	var logged syncBuffer
	started := make(chan struct{})
	var once sync.Once
	c := sqlkit.StartCleaner(10*time.Millisecond, func(ctx context.Context) (int, error) {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return 0, ctx.Err()
	}, slog.New(slog.NewTextHandler(&logged, nil)), "pkg", "tbl")
	<-started
	c.Stop()
	assert.NotContains(t, logged.String(), "background cleanup failed", "a run canceled by Stop is not a failure")
}

func TestCleanerZeroInterval(t *testing.T) {
	c := sqlkit.StartCleaner(0, func(context.Context) (int, error) {
		t.Error("ran with a zero interval")
		return 0, nil
	}, slog.Default(), "pkg", "tbl")
	c.Stop()
	sqlkit.StartCleaner(-time.Second, nil, slog.Default(), "pkg", "tbl").Stop()
}

// fakeDriver prepares any text but "fail", counting prepared and closed
// statements.
type fakeDriver struct{ prepared, closed atomic.Int32 }

func (d *fakeDriver) Open(string) (driver.Conn, error) { return fakeConn{d}, nil }

type fakeConn struct{ d *fakeDriver }

func (c fakeConn) Prepare(text string) (driver.Stmt, error) {
	if text == "fail" {
		return nil, errors.New("cannot prepare")
	}
	c.d.prepared.Add(1)
	return fakeStmt{c.d}, nil
}
func (fakeConn) Close() error              { return nil }
func (fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("no transactions") }

type fakeStmt struct{ d *fakeDriver }

func (s fakeStmt) Close() error                             { s.d.closed.Add(1); return nil }
func (fakeStmt) NumInput() int                              { return -1 }
func (fakeStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(0), nil }
func (fakeStmt) Query([]driver.Value) (driver.Rows, error)  { return nil, errors.New("no rows") }

type pair struct{ a, b *sql.Stmt }

func (p *pair) all() []**sql.Stmt { return []**sql.Stmt{&p.a, &p.b} }

func fakeDB(t *testing.T) (*sql.DB, *fakeDriver) {
	d := new(fakeDriver)
	db := sql.OpenDB(connector{d})
	t.Cleanup(func() { db.Close() })
	return db, d
}

type connector struct{ d *fakeDriver }

func (c connector) Connect(context.Context) (driver.Conn, error) { return fakeConn{c.d}, nil }
func (c connector) Driver() driver.Driver                        { return c.d }

func TestStmtsPrepareOnceAndAgainAfterClose(t *testing.T) {
	db, d := fakeDB(t)
	var s sqlkit.Stmts[pair]
	require.NoError(t, s.Close((*pair).all), "Close before any use")
	st, err := s.Get(context.Background(), db, []string{"a", "b"}, (*pair).all)
	require.NoError(t, err)
	require.NotNil(t, st.a)
	require.NotNil(t, st.b)
	again, err := s.Get(context.Background(), db, []string{"a", "b"}, (*pair).all)
	require.NoError(t, err)
	assert.Same(t, st, again, "prepared once")

	require.NoError(t, s.Close((*pair).all))
	assert.Equal(t, d.prepared.Load(), d.closed.Load(), "Close closes every statement")
	fresh, err := s.Get(context.Background(), db, []string{"a", "b"}, (*pair).all)
	require.NoError(t, err)
	assert.NotSame(t, st, fresh, "prepared again after Close")
}

func TestStmtsPrepareFailureClosesPrepared(t *testing.T) {
	db, d := fakeDB(t)
	var s sqlkit.Stmts[pair]
	_, err := s.Get(context.Background(), db, []string{"a", "fail"}, (*pair).all)
	require.ErrorContains(t, err, "cannot prepare")
	assert.Equal(t, d.prepared.Load(), d.closed.Load(), "the statement prepared before the failure is closed")
	_, err = s.Get(context.Background(), db, []string{"a"}, (*pair).all)
	assert.ErrorContains(t, err, "2 statements for 1 texts")
}
