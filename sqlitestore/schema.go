package sqlitestore

import (
	"context"
	"database/sql"
)

// queries holds the statements, built once from the checked table name.
type queries struct {
	schema       []string
	find         string
	create       string
	update       string
	live         string
	delete       string
	userSessions string
	deleteUser   string
	cleanup      string
}

// now is the current time in Unix milliseconds, by SQLite's clock (the
// operating system's); it is the same for a whole statement.
const now = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`

func newQueries(table string) queries {
	t := `"` + table + `"`
	return queries{
		schema: []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
				id BLOB PRIMARY KEY,
				data BLOB NOT NULL,
				user_id BLOB,
				expires INTEGER NOT NULL,
				version INTEGER NOT NULL
			) WITHOUT ROWID`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_user_id_idx" ON ` + t + ` (user_id) WHERE user_id IS NOT NULL`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_expires_idx" ON ` + t + ` (expires)`,
		},
		find: `SELECT data, user_id, version FROM ` + t + ` WHERE id = ?1 AND expires > ` + now,
		create: `INSERT INTO ` + t + ` (id, data, user_id, expires, version)
			VALUES (?1, ?2, ?3, ` + now + ` + ?4, 1)
			ON CONFLICT (id) DO UPDATE
			SET data = excluded.data, user_id = excluded.user_id, expires = excluded.expires, version = 1
			WHERE ` + t + `.expires <= ` + now,
		update: `UPDATE ` + t + ` SET data = ?2, user_id = ?3, expires = ` + now + ` + ?4, version = version + 1
			WHERE id = ?1 AND version = ?5 AND expires > ` + now,
		live:         `SELECT 1 FROM ` + t + ` WHERE id = ?1 AND expires > ` + now,
		delete:       `DELETE FROM ` + t + ` WHERE id = ?1`,
		userSessions: `SELECT id FROM ` + t + ` WHERE user_id = ?1 AND expires > ` + now,
		deleteUser:   `DELETE FROM ` + t + ` WHERE user_id = ?1`,
		cleanup: `DELETE FROM ` + t + ` WHERE id IN (
			SELECT id FROM ` + t + ` WHERE expires <= ` + now + ` LIMIT ?1)`,
	}
}

// Migrate creates the table and its indexes if they are missing, in one
// transaction. It is idempotent, and changes nothing in a table that
// exists.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("migrate", err)
	}
	defer tx.Rollback()
	for _, q := range s.q.schema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return wrap("migrate", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap("migrate", err)
	}
	return nil
}

// stmts are the store's prepared statements.
type stmts struct {
	find, create, update, live, delete, userSessions, deleteUser, cleanup *sql.Stmt
}

func (st *stmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.find, &st.create, &st.update, &st.live, &st.delete, &st.userSessions, &st.deleteUser, &st.cleanup}
}

func (q *queries) texts() []string {
	return []string{q.find, q.create, q.update, q.live, q.delete, q.userSessions, q.deleteUser, q.cleanup}
}

// stmts returns the prepared statements, preparing them on first use (and
// again after Close). Preparing fails while the table does not exist.
func (s *Store) stmts(ctx context.Context) (*stmts, error) {
	st, err := s.st.Get(ctx, s.db, s.q.texts(), (*stmts).all)
	if err != nil {
		return nil, wrap("prepare", err)
	}
	return st, nil
}
