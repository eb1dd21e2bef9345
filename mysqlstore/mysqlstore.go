// Package mysqlstore is a sessions.Store on MySQL or MariaDB, through
// database/sql and github.com/go-sql-driver/mysql, for several application
// instances sharing sessions:
//
//	db, err := sql.Open("mysql", "app:secret@tcp(db:3306)/app")
//	...
//	store := mysqlstore.New(db)
//	defer store.Close()
//	if err := store.Migrate(ctx); err != nil { ... }
//	mw, err := sessions.New(sessions.SessionConfig{SecretKey: key, Store: store})
//
// # Schema
//
// Migrate creates one InnoDB table (default "sessions", see WithTable) if
// it is missing:
//
//	CREATE TABLE sessions (
//		id      VARBINARY(512) NOT NULL PRIMARY KEY, -- the storage key (a hash of the session id)
//		data    MEDIUMBLOB NOT NULL,                 -- up to 16 MiB
//		user_id VARBINARY(512) NULL,                 -- NULL for an anonymous session
//		expires DATETIME(6) NOT NULL,                -- UTC
//		version BIGINT UNSIGNED NOT NULL,
//		INDEX sessions_user_id_idx (user_id),
//		INDEX sessions_expires_idx (expires)
//	) ENGINE=InnoDB
//
// Ids and user ids are binary strings, so they compare byte by byte
// whatever the server's collation, and any string round-trips. Expiry is
// computed by the database's clock, expires = UTC_TIMESTAMP(6) + TTL
// (UTC, so neither the connections' time_zone nor daylight saving time
// matter, and DATETIME lasts past 2038), and every query filters on
// expires > UTC_TIMESTAMP(6): an expired row never loads, even before
// Cleanup removes it.
//
// # Round trips
//
// The store prepares its statements (server-side) on first use and keeps
// them, so each call is one statement and one round trip once database/sql
// has prepared it on the connection (the first use on each connection costs
// one more):
//
//   - Find: one SELECT.
//   - Create: one INSERT. Only when the id is taken (in practice: by an
//     expired row Cleanup has not removed yet), a DELETE of that id if
//     expired and a second INSERT follow; ErrExists when it is still taken.
//   - Update: one UPDATE … WHERE id AND version AND expires > now. Only when
//     it changes no row, one more SELECT tells a conflict (the row is live
//     with another version) from a record that is gone.
//   - Delete, UserSessions, DeleteUser: one statement each; DeleteUser is
//     atomic.
//   - Cleanup: one DELETE … LIMIT CleanupBatch per batch of expired rows.
//
// Every query is parameterised; the table name, the only identifier, is
// checked against a strict pattern by New.
//
// # Deadlines
//
// Every method honours its context: the driver closes the connection at
// the deadline and the call returns the context's error. The server may
// still finish the abandoned statement: an Update that returned the
// deadline's error may be applied, whole, a moment later.
package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit"
	"github.com/go-sql-driver/mysql"
)

// MaxIDLength is the longest id, and the longest user id, the store
// accepts, in bytes.
const MaxIDLength = 512

// ErrInvalidID is returned by Create for an empty id or one longer than
// MaxIDLength, and by Create and Update for a user id longer than
// MaxIDLength. Find, Update and Delete treat such ids as unknown, and
// UserSessions and DeleteUser such user ids.
var ErrInvalidID = errors.New("mysqlstore: id empty or longer than MaxIDLength")

// Store is the MySQL store. It implements sessions.UserStore and is safe
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
		panic("mysqlstore: nil db")
	}
	o := sqlkit.Configure("mysqlstore", DefaultTable, DefaultCleanupInterval, opts)
	s := &Store{db: db, q: newQueries(o.Table)}
	s.cleaner = sqlkit.StartCleaner(o.Interval, s.Cleanup, o.Log, "mysqlstore", o.Table)
	return s
}

func validID(id string) bool { return id != "" && len(id) <= MaxIDLength }

// nullable is the user_id column's value: NULL for an anonymous session.
func nullable(user string) []byte {
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

// micros is a TTL in whole microseconds, the database's resolution.
func micros(ttl time.Duration) int64 { return ttl.Microseconds() }

func wrap(op string, err error) error { return fmt.Errorf("mysqlstore: %s: %w", op, err) }

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
	var version uint64
	err = st.find.QueryRowContext(ctx, []byte(id)).Scan(&d, &user, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, wrap("find", err)
	}
	return sessions.Record{ID: id, Data: data(d), UserID: string(user), Version: version}, true, nil
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
	for attempt := 0; ; attempt++ {
		_, err := st.insert.ExecContext(ctx, []byte(rec.ID), data(rec.Data), nullable(rec.UserID), micros(rec.TTL))
		if !isDuplicate(err) {
			if err != nil {
				return wrap("create", err)
			}
			return nil
		}
		if attempt > 0 {
			return sessions.ErrExists
		}
		// Taken: by a live row, or by an expired one not cleaned yet.
		if _, err := st.deleteExpired.ExecContext(ctx, []byte(rec.ID)); err != nil {
			return wrap("create", err)
		}
	}
}

// isDuplicate reports a duplicate primary key (ER_DUP_ENTRY).
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
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
	// version changes, so a matched row is always a changed row.
	n, err := sqlkit.Exec(ctx, st.update, data(rec.Data), nullable(rec.UserID), micros(rec.TTL), []byte(rec.ID), rec.Version)
	if err != nil {
		return false, wrap("update", err)
	}
	if n == 1 {
		return true, nil
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
