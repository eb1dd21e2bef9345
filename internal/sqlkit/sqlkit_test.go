package sqlkit_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
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
	return fakeStmt(c), nil
}
func (fakeConn) Close() error              { return nil }
func (fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("no transactions") }

type fakeStmt struct{ d *fakeDriver }

func (s fakeStmt) Close() error { s.d.closed.Add(1); return nil }
func (fakeStmt) NumInput() int  { return -1 }

// Exec affects as many rows as its argument says, or fails on a negative.
func (fakeStmt) Exec(args []driver.Value) (driver.Result, error) {
	if n := args[0].(int64); n >= 0 {
		return driver.RowsAffected(n), nil
	}
	return nil, errors.New("exec failed")
}

// Query returns its arguments as rows of one column; the argument "fail"
// fails the query, "badrow" the reading of its row, "wide" makes the rows
// two columns wide, which a scan into one value refuses.
func (fakeStmt) Query(args []driver.Value) (driver.Rows, error) {
	for _, a := range args {
		if s, ok := a.(string); ok && s == "fail" {
			return nil, errors.New("query failed")
		}
		if s, ok := a.(string); ok && s == "wide" {
			return &fakeRows{vals: args, cols: []string{"id", "other"}}, nil
		}
	}
	return &fakeRows{vals: args, cols: []string{"id"}}, nil
}

type fakeRows struct {
	vals []driver.Value
	cols []string
}

func (r *fakeRows) Columns() []string { return r.cols }
func (*fakeRows) Close() error        { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	v := r.vals[0]
	r.vals = r.vals[1:]
	if s, ok := v.(string); ok && s == "badrow" {
		return errors.New("bad row")
	}
	for i := range dest {
		dest[i] = v
	}
	return nil
}

type pair struct{ a, b *sql.Stmt }

func (p *pair) all() []**sql.Stmt { return []**sql.Stmt{&p.a, &p.b} }

func fakeDB(t *testing.T) (*sql.DB, *fakeDriver) {
	d := new(fakeDriver)
	db := sql.OpenDB(connector{d})
	t.Cleanup(func() { db.Close() })
	return db, d
}

type connector struct{ d *fakeDriver }

func (c connector) Connect(context.Context) (driver.Conn, error) { return fakeConn(c), nil }
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

func prepare(t *testing.T, db *sql.DB) *sql.Stmt {
	st, err := db.Prepare("q")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestExec(t *testing.T) {
	db, _ := fakeDB(t)
	st := prepare(t, db)
	n, err := sqlkit.Exec(context.Background(), st, int64(3))
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	_, err = sqlkit.Exec(context.Background(), st, int64(-1))
	assert.ErrorContains(t, err, "exec failed")
}

func TestExists(t *testing.T) {
	db, _ := fakeDB(t)
	st := prepare(t, db)
	ctx := context.Background()
	live, err := sqlkit.Exists(ctx, st, int64(1))
	require.NoError(t, err)
	assert.True(t, live)
	live, err = sqlkit.Exists(ctx, st)
	require.NoError(t, err)
	assert.False(t, live, "no row")
	live, err = sqlkit.Exists(ctx, st, "fail")
	assert.ErrorContains(t, err, "query failed")
	assert.False(t, live)
}

func TestIDs(t *testing.T) {
	db, _ := fakeDB(t)
	st := prepare(t, db)
	ctx := context.Background()
	ids, err := sqlkit.IDs(ctx, st, []byte("a"), []byte("b\x00c"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b\x00c"}, ids)
	ids, err = sqlkit.IDs(ctx, st)
	require.NoError(t, err)
	assert.Empty(t, ids)
	_, err = sqlkit.IDs(ctx, st, "fail")
	assert.ErrorContains(t, err, "query failed")
	_, err = sqlkit.IDs(ctx, st, []byte("a"), "badrow")
	assert.ErrorContains(t, err, "bad row", "an error while reading the rows")
	_, err = sqlkit.IDs(ctx, st, "wide")
	assert.ErrorContains(t, err, "expected 2 destination arguments", "a row that does not scan")
}

type option func(*sqlkit.Options)

func TestConfigure(t *testing.T) {
	o := sqlkit.Configure[option]("pkg", "sessions", time.Minute, nil)
	assert.Equal(t, sqlkit.Options{Table: "sessions", Interval: time.Minute, Log: slog.Default()}, o)

	log := slog.New(slog.DiscardHandler)
	o = sqlkit.Configure("pkg", "sessions", time.Minute, []option{
		func(o *sqlkit.Options) { o.Table = "a" },
		func(o *sqlkit.Options) { o.Table = "b" }, // the last one wins
		func(o *sqlkit.Options) { o.Interval = 0 },
		func(o *sqlkit.Options) { o.Log = log },
	})
	assert.Equal(t, sqlkit.Options{Table: "b", Interval: 0, Log: log}, o)

	assert.PanicsWithError(t, `pkg: invalid table name "a-b": want a letter or underscore, then up to 47 letters, digits or underscores`, func() {
		sqlkit.Configure("pkg", "sessions", time.Minute, []option{func(o *sqlkit.Options) { o.Table = "a-b" }})
	})
}
