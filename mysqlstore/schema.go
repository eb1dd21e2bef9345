package mysqlstore

import (
	"context"
	"database/sql"
)

// queries holds the statements, built once from the checked table name.
type queries struct {
	schema        string
	find          string
	insert        string
	deleteExpired string
	update        string
	live          string
	delete        string
	userSessions  string
	deleteUser    string
	cleanup       string
}

const now = `UTC_TIMESTAMP(6)`

func newQueries(table string) queries {
	t := "`" + table + "`"
	return queries{
		schema: `CREATE TABLE IF NOT EXISTS ` + t + ` (
			id VARBINARY(512) NOT NULL PRIMARY KEY,
			data MEDIUMBLOB NOT NULL,
			user_id VARBINARY(512) NULL,
			expires DATETIME(6) NOT NULL,
			version BIGINT UNSIGNED NOT NULL,
			INDEX ` + "`" + table + "_user_id_idx`" + ` (user_id),
			INDEX ` + "`" + table + "_expires_idx`" + ` (expires)
		) ENGINE=InnoDB`,
		find: `SELECT data, user_id, version FROM ` + t + ` WHERE id = ? AND expires > ` + now,
		insert: `INSERT INTO ` + t + ` (id, data, user_id, expires, version)
			VALUES (?, ?, ?, ` + now + ` + INTERVAL ? MICROSECOND, 1)`,
		deleteExpired: `DELETE FROM ` + t + ` WHERE id = ? AND expires <= ` + now,
		update: `UPDATE ` + t + ` SET data = ?, user_id = ?, expires = ` + now + ` + INTERVAL ? MICROSECOND, version = version + 1
			WHERE id = ? AND version = ? AND expires > ` + now,
		live:         `SELECT 1 FROM ` + t + ` WHERE id = ? AND expires > ` + now,
		delete:       `DELETE FROM ` + t + ` WHERE id = ?`,
		userSessions: `SELECT id FROM ` + t + ` WHERE user_id = ? AND expires > ` + now,
		deleteUser:   `DELETE FROM ` + t + ` WHERE user_id = ?`,
		cleanup:      `DELETE FROM ` + t + ` WHERE expires <= ` + now + ` LIMIT ?`,
	}
}

// Migrate creates the table and its indexes if the table is missing, in
// one statement: it is idempotent, and safe to run from several instances
// at once. It changes nothing in a table that exists.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, s.q.schema); err != nil {
		return wrap("migrate", err)
	}
	return nil
}

// stmts are the store's prepared statements.
type stmts struct {
	find, insert, deleteExpired, update, live, delete, userSessions, deleteUser, cleanup *sql.Stmt
}

func (st *stmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.find, &st.insert, &st.deleteExpired, &st.update, &st.live, &st.delete, &st.userSessions, &st.deleteUser, &st.cleanup}
}

func (q *queries) texts() []string {
	return []string{q.find, q.insert, q.deleteExpired, q.update, q.live, q.delete, q.userSessions, q.deleteUser, q.cleanup}
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
