// Package sqlkit is what the SQL stores (pgstore, mysqlstore, sqlitestore)
// share apart from their SQL: the check of table names, the batched
// cleanup, the background cleanup goroutine and the lazily prepared
// statements. It uses database/sql and the standard library only; each
// store brings its own driver and its own statements.
package sqlkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// tableName is the pattern of table names: short enough that the index
// names built from it stay within PostgreSQL's 63 bytes and MySQL's 64.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

// CheckTable reports whether name may be a table name: a letter or an
// underscore followed by at most 47 letters, digits or underscores
// (ASCII), so that no name can smuggle SQL into a query. The error starts
// with pkg, the store's package name.
func CheckTable(pkg, name string) error {
	if !tableName.MatchString(name) {
		return fmt.Errorf("%s: invalid table name %.80q: want a letter or underscore, then up to 47 letters, digits or underscores", pkg, name)
	}
	return nil
}

// Cleanup calls deleteBatch with limit batch until it deletes fewer than
// batch rows, and returns how many rows it deleted in all. On an error it
// returns the rows deleted before it and deleteBatch's error, as is.
func Cleanup(ctx context.Context, batch int, deleteBatch func(ctx context.Context, limit int) (int64, error)) (int, error) {
	total := 0
	for {
		n64, err := deleteBatch(ctx, batch)
		if err != nil {
			return total, err
		}
		n := int(n64)
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// A Cleaner runs a cleanup every interval until stopped.
type Cleaner struct {
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// StartCleaner runs cleanup every interval, each run bounded by the
// interval, until Stop; an interval of zero or less starts nothing. A
// failed run is logged on log at level error as "<pkg>: background cleanup
// failed" with the table; a run cut short by Stop is not.
func StartCleaner(interval time.Duration, cleanup func(context.Context) (int, error), log *slog.Logger, pkg, table string) *Cleaner {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cleaner{cancel: cancel, done: make(chan struct{})}
	if interval <= 0 {
		close(c.done)
		return c
	}
	run := func() {
		ctx, cancel := context.WithTimeout(ctx, interval)
		defer cancel()
		if _, err := cleanup(ctx); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, pkg+": background cleanup failed", "table", table, "err", err)
		}
	}
	go func() {
		defer close(c.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				run()
			}
		}
	}()
	return c
}

// Stop cancels a cleanup in progress and waits until the cleaner's
// goroutine returns. Calling it again does nothing.
func (c *Cleaner) Stop() {
	c.once.Do(c.cancel)
	<-c.done
}

// Stmts holds a set T of prepared statements, prepared on first use and
// again after Close. The zero value is ready to use. ptrs lists the
// statement fields of a T, in the order of the texts they are prepared
// from.
type Stmts[T any] struct {
	st atomic.Pointer[T] // nil until first use, and after Close
	mu sync.Mutex        // held while preparing or closing
}

// Get returns the statements, preparing texts on db into the fields
// ptrs(t) lists if they are not prepared yet. On a failure it closes the
// ones it prepared and returns the driver's error, as is.
func (s *Stmts[T]) Get(ctx context.Context, db *sql.DB, texts []string, ptrs func(*T) []**sql.Stmt) (*T, error) {
	if st := s.st.Load(); st != nil {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.st.Load(); st != nil {
		return st, nil
	}
	st := new(T)
	fields := ptrs(st)
	if len(fields) != len(texts) {
		return nil, fmt.Errorf("sqlkit: %d statements for %d texts", len(fields), len(texts))
	}
	for i, text := range texts {
		p, err := db.PrepareContext(ctx, text)
		if err != nil {
			closeAll(fields)
			return nil, err
		}
		*fields[i] = p
	}
	s.st.Store(st)
	return st, nil
}

// Close closes the prepared statements, if any, and returns the errors of
// closing them, joined. The next Get prepares them again.
func (s *Stmts[T]) Close(ptrs func(*T) []**sql.Stmt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.st.Swap(nil); st != nil {
		return closeAll(ptrs(st))
	}
	return nil
}

func closeAll(fields []**sql.Stmt) error {
	var errs []error
	for _, p := range fields {
		if *p != nil {
			errs = append(errs, (*p).Close())
		}
	}
	return errors.Join(errs...)
}

// Exec runs the statement st with args and returns how many rows it
// affected.
func Exec(ctx context.Context, st *sql.Stmt, args ...any) (int64, error) {
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Exists reports whether the query st with args returns a row.
func Exists(ctx context.Context, st *sql.Stmt, args ...any) (bool, error) {
	var one int
	err := st.QueryRowContext(ctx, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// IDs runs the query st with args and returns its one column, a binary
// string, of every row.
func IDs(ctx context.Context, st *sql.Stmt, args ...any) ([]string, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, string(id))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ids, nil
}

// Options is the configuration every SQL store's New takes: the table,
// the background cleanup's interval and its logger.
type Options struct {
	Table    string
	Interval time.Duration
	Log      *slog.Logger
}

// Configure applies opts, in order, to the defaults (the table and the
// interval given, slog.Default()) and checks the table name, panicking
// with CheckTable's error on an invalid one: New's options are the
// program's, so a bad one is a programming error.
func Configure[O ~func(*Options)](pkg, table string, interval time.Duration, opts []O) Options {
	o := Options{Table: table, Interval: interval, Log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := CheckTable(pkg, o.Table); err != nil {
		panic(err)
	}
	return o
}
