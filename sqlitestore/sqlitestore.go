// Package sqlitestore is a sessions.Store in an embedded SQLite database
// (modernc.org/sqlite: pure Go, no cgo), for a single server, or several
// processes on one machine, whose sessions must survive a restart:
//
//	db, err := sqlitestore.Open("/var/lib/app/sessions.db")
//	...
//	defer db.Close()
//	store := sqlitestore.New(db)
//	defer store.Close()
//	if err := store.Migrate(ctx); err != nil { ... }
//	mw, err := sessions.New(sessions.SessionConfig{SecretKey: key, Store: store})
//
// # Schema
//
// Migrate creates one table (default "sessions", see WithTable) and two
// indexes, if they are missing:
//
//	CREATE TABLE sessions (
//		id      BLOB PRIMARY KEY,  -- the storage key (a hash of the session id)
//		data    BLOB NOT NULL,
//		user_id BLOB,              -- NULL for an anonymous session
//		expires INTEGER NOT NULL,  -- Unix milliseconds
//		version INTEGER NOT NULL
//	) WITHOUT ROWID;
//	CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
//	CREATE INDEX sessions_expires_idx ON sessions (expires);
//
// Ids and user ids are stored as blobs, so any string round-trips; both are
// at most MaxIDLength bytes. Expiry is computed inside SQLite,
// expires = unixepoch('subsec') + TTL, and every query filters on
// expires > that clock: an expired row never loads, even before Cleanup
// removes it.
//
// # One writer at a time
//
// SQLite lets one connection write at a time, across the processes that
// share the file. Every write of the store is a single statement, so it
// holds the write lock only for that statement; a writer that finds the
// lock taken waits for it, up to the connection's busy_timeout (Open sets
// DefaultBusyTimeout) or the call's deadline, whichever comes first, then
// fails. In WAL mode (Open sets it) reads never wait for the writer. So
// throughput of Create and Update is that of one writer, which on a local
// disk is thousands per second; several machines need pgstore or
// mysqlstore. Open the database with busy_timeout and journal_mode=WAL
// (Open does): without a busy timeout, concurrent writes fail at once with
// SQLITE_BUSY.
//
// # Statements per call
//
// The store prepares its statements on first use and keeps them; each
// call is one statement:
//
//   - Find: one SELECT.
//   - Create: one INSERT … ON CONFLICT DO UPDATE … WHERE expired, which
//     takes over an expired row and leaves a live one alone (ErrExists).
//   - Update: one UPDATE … WHERE id AND version AND expires > now. Only when
//     it changes no row, one more SELECT tells a conflict (the row is live
//     with another version) from a record that is gone.
//   - Delete, UserSessions, DeleteUser: one statement each; DeleteUser is
//     atomic.
//   - Cleanup: one DELETE per CleanupBatch expired rows.
//
// Every query is parameterised; the table name, the only identifier, is
// checked against a strict pattern by New.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit"
)

// MaxIDLength is the longest id, and the longest user id, the store
// accepts, in bytes.
const MaxIDLength = 512

// ErrInvalidID is returned by Create for an empty id or one longer than
// MaxIDLength, and by Create and Update for a user id longer than
// MaxIDLength. Find, Update and Delete treat such ids as unknown, and
// UserSessions and DeleteUser such user ids.
var ErrInvalidID = errors.New("sqlitestore: id empty or longer than MaxIDLength")

// Store is the SQLite store. It implements sessions.UserStore and is safe
// for concurrent use.
type Store struct {
	db      *sql.DB
	q       queries
	cleaner *sqlkit.Cleaner

	st sqlkit.Stmts[stmts] // prepared on first use, and again after Close
}

var _ sessions.UserStore = (*Store)(nil)

// New returns a store on db and, unless the cleanup interval is zero,
// starts its background cleanup (stop it with Close). It does not touch the
// database: call Migrate to create the table. It panics if db is nil or
// the table name is invalid (see WithTable): both are programming errors.
func New(db *sql.DB, opts ...Option) *Store {
	if db == nil {
		panic("sqlitestore: nil db")
	}
	o := sqlkit.Configure("sqlitestore", DefaultTable, DefaultCleanupInterval, opts)
	s := &Store{db: db, q: newQueries(o.Table)}
	s.cleaner = sqlkit.StartCleaner(o.Interval, s.Cleanup, o.Log, "sqlitestore", o.Table)
	return s
}

func validID(id string) bool { return id != "" && len(id) <= MaxIDLength }

// nullable is the user_id column's value: NULL for an anonymous session.
func nullable(user string) any {
	if user == "" {
		return nil
	}
	return []byte(user)
}

func data(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// millis is a TTL in whole milliseconds, the store's resolution.
func millis(ttl time.Duration) int64 { return ttl.Milliseconds() }

func wrap(op string, err error) error { return fmt.Errorf("sqlitestore: %s: %w", op, err) }

// Find returns the live record id.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := ctx.Err(); err != nil || !validID(id) {
		return sessions.Record{}, false, err
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return sessions.Record{}, false, err
	}
	var d, user []byte
	var version int64
	err = st.find.QueryRowContext(ctx, []byte(id)).Scan(&d, &user, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, wrap("find", err)
	}
	return sessions.Record{ID: id, Data: data(d), UserID: string(user), Version: uint64(version)}, true, nil
}

// Create inserts rec with version 1, taking over an expired row of the
// same id. It returns sessions.ErrExists when a live row has the id.
func (s *Store) Create(ctx context.Context, rec sessions.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(rec.ID) || len(rec.UserID) > MaxIDLength {
		return fmt.Errorf("%w: %.40q", ErrInvalidID, rec.ID)
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	n, err := sqlkit.Exec(ctx, st.create, []byte(rec.ID), data(rec.Data), nullable(rec.UserID), millis(rec.TTL))
	if err != nil {
		return wrap("create", err)
	}
	if n == 0 {
		return sessions.ErrExists
	}
	return nil
}

// Update writes rec over the live row of version rec.Version, as version
// rec.Version+1, in one statement. When no row changed, a second query
// tells sessions.ErrConflict (a live row of another version) from
// found=false (none).
func (s *Store) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := ctx.Err(); err != nil || !validID(rec.ID) {
		return false, err
	}
	if len(rec.UserID) > MaxIDLength {
		return false, fmt.Errorf("%w: user id of %d bytes", ErrInvalidID, len(rec.UserID))
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return false, err
	}
	if rec.Version <= math.MaxInt64 { // no stored version is larger
		n, err := sqlkit.Exec(ctx, st.update, []byte(rec.ID), data(rec.Data), nullable(rec.UserID), millis(rec.TTL), int64(rec.Version))
		if err != nil {
			return false, wrap("update", err)
		}
		if n == 1 {
			return true, nil
		}
	}
	live, err := sqlkit.Exists(ctx, st.live, []byte(rec.ID))
	if err != nil {
		return false, wrap("update", err)
	}
	if !live {
		return false, nil
	}
	return true, sessions.ErrConflict
}

// Delete removes the row id; a missing id is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil || !validID(id) {
		return err
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	if _, err := st.delete.ExecContext(ctx, []byte(id)); err != nil {
		return wrap("delete", err)
	}
	return nil
}

// UserSessions returns the ids of userID's live sessions, through the
// user_id index.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	if err := ctx.Err(); err != nil || userID == "" || len(userID) > MaxIDLength {
		return nil, err
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := sqlkit.IDs(ctx, st.userSessions, []byte(userID))
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	return ids, nil
}

// DeleteUser deletes every session of userID in one statement.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil || userID == "" || len(userID) > MaxIDLength {
		return err
	}
	st, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	if _, err := st.deleteUser.ExecContext(ctx, []byte(userID)); err != nil {
		return wrap("delete user", err)
	}
	return nil
}
