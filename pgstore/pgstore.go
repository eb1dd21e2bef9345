// Package pgstore is a sessions.Store on PostgreSQL, through a pgx
// connection pool (github.com/jackc/pgx/v5/pgxpool), for several
// application instances sharing sessions:
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	...
//	store := pgstore.New(pool)
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
//		id      bytea PRIMARY KEY,   -- the storage key (a hash of the session id)
//		data    bytea NOT NULL,
//		user_id bytea,               -- NULL for an anonymous session
//		expires timestamptz NOT NULL,
//		version bigint NOT NULL
//	);
//	CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
//	CREATE INDEX sessions_expires_idx ON sessions (expires);
//
// Ids and user ids are bytea, so any string round-trips (text refuses NUL
// bytes); both are at most MaxIDLength bytes. Expiry is computed by the
// database's clock, expires = now() + TTL, and every query filters on
// expires > now(): an expired row never loads, even before Cleanup removes
// it, and the application servers' clocks do not matter.
//
// # Round trips
//
// Each call is one statement, one round trip once pgx has prepared it on
// the pool connection (pgx caches prepared statements per connection, so the
// first use on each connection costs one more):
//
//   - Find: one SELECT.
//   - Create: one INSERT … ON CONFLICT DO UPDATE … WHERE expired, which
//     takes over an expired row and leaves a live one alone (ErrExists).
//   - Update: one UPDATE … WHERE id AND version AND expires > now(). Only
//     when it changes no row, one more SELECT tells a conflict (the row is
//     live with another version) from a record that is gone.
//   - Delete, UserSessions, DeleteUser: one statement each; DeleteUser is
//     atomic.
//   - Cleanup: one DELETE per CleanupBatch expired rows.
//
// Every query is parameterised; the table name, the only identifier, is
// checked against a strict pattern by New.
//
// # Deadlines
//
// Every method honours its context. By default pgx gives up on a statement
// at the deadline by closing the connection, and PostgreSQL runs the
// statement on until it notices: an Update that returned the deadline's
// error may still be applied, whole, a moment later (the next request then
// reads the new version). To have the server stop such statements, build
// the pool with pgconn.CancelRequestContextWatcherHandler as its
// BuildContextWatcherHandler.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/sqlkit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxIDLength is the longest id, and the longest user id, the store
// accepts, in bytes.
const MaxIDLength = 512

// ErrInvalidID is returned by Create for an empty id or one longer than
// MaxIDLength, and by Create and Update for a user id longer than
// MaxIDLength. Find, Update and Delete treat such ids as unknown, and
// UserSessions and DeleteUser such user ids.
var ErrInvalidID = errors.New("pgstore: id empty or longer than MaxIDLength")

// Store is the PostgreSQL store. It implements sessions.UserStore and is
// safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	table   string
	q       queries
	cleaner *sqlkit.Cleaner
}

var _ sessions.UserStore = (*Store)(nil)

// New returns a store on pool and, unless the cleanup interval is zero,
// starts its background cleanup (stop it with Close). It does not touch the
// database: call Migrate to create the table. It panics if pool is nil or
// the table name is invalid (see WithTable): both are programming errors.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	if pool == nil {
		panic("pgstore: nil pool")
	}
	o := sqlkit.Configure("pgstore", DefaultTable, DefaultCleanupInterval, opts)
	s := &Store{pool: pool, table: o.Table, q: newQueries(o.Table)}
	s.cleaner = sqlkit.StartCleaner(o.Interval, s.Cleanup, o.Log, "pgstore", o.Table)
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

// micros is a TTL in whole microseconds, the database's resolution.
func micros(ttl time.Duration) int64 { return ttl.Microseconds() }

func wrap(op string, err error) error { return fmt.Errorf("pgstore: %s: %w", op, err) }

// Find returns the live record id.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := ctx.Err(); err != nil || !validID(id) {
		return sessions.Record{}, false, err
	}
	var data, user []byte
	var version int64
	err := s.pool.QueryRow(ctx, s.q.find, []byte(id)).Scan(&data, &user, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, wrap("find", err)
	}
	if data == nil {
		data = []byte{}
	}
	return sessions.Record{ID: id, Data: data, UserID: string(user), Version: uint64(version)}, true, nil
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
	tag, err := s.pool.Exec(ctx, s.q.create, []byte(rec.ID), data(rec.Data), nullable(rec.UserID), micros(rec.TTL))
	if err != nil {
		return wrap("create", err)
	}
	if tag.RowsAffected() == 0 {
		return sessions.ErrExists
	}
	return nil
}

func data(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
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
	if rec.Version > math.MaxInt64 {
		return s.conflictOrGone(ctx, rec.ID) // no stored version is that large
	}
	tag, err := s.pool.Exec(ctx, s.q.update, []byte(rec.ID), data(rec.Data), nullable(rec.UserID), micros(rec.TTL), int64(rec.Version))
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "40001" {
			// A serializable or repeatable-read transaction lost to
			// a concurrent write: that is a conflict.
			return true, fmt.Errorf("%w: %w", sessions.ErrConflict, err)
		}
		return false, wrap("update", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	return s.conflictOrGone(ctx, rec.ID)
}

// conflictOrGone runs after an Update that changed nothing: a live row
// means another version (ErrConflict), none means the record is gone.
func (s *Store) conflictOrGone(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, s.q.live, []byte(id)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("update", err)
	}
	return true, sessions.ErrConflict
}

// Delete removes the row id; a missing id is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil || !validID(id) {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.q.delete, []byte(id)); err != nil {
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
	rows, err := s.pool.Query(ctx, s.q.userSessions, []byte(userID))
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var id []byte
		err := r.Scan(&id)
		return string(id), err
	})
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
	if _, err := s.pool.Exec(ctx, s.q.deleteUser, []byte(userID)); err != nil {
		return wrap("delete user", err)
	}
	return nil
}
