package pgstore

import (
	"context"
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

// ttl is the expiry of a row written now with a TTL of $4 microseconds.
const ttl = `now() + $4 * interval '1 microsecond'`

func newQueries(table string) queries {
	t := `"` + table + `"`
	return queries{
		schema: []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
				id bytea PRIMARY KEY,
				data bytea NOT NULL,
				user_id bytea,
				expires timestamptz NOT NULL,
				version bigint NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_user_id_idx" ON ` + t + ` (user_id) WHERE user_id IS NOT NULL`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_expires_idx" ON ` + t + ` (expires)`,
		},
		find: `SELECT data, user_id, version FROM ` + t + ` WHERE id = $1 AND expires > now()`,
		create: `INSERT INTO ` + t + ` AS s (id, data, user_id, expires, version)
			VALUES ($1, $2, $3, ` + ttl + `, 1)
			ON CONFLICT (id) DO UPDATE
			SET data = EXCLUDED.data, user_id = EXCLUDED.user_id, expires = EXCLUDED.expires, version = 1
			WHERE s.expires <= now()`,
		update: `UPDATE ` + t + ` SET data = $2, user_id = $3, expires = ` + ttl + `, version = version + 1
			WHERE id = $1 AND version = $5 AND expires > now()`,
		live:         `SELECT 1 FROM ` + t + ` WHERE id = $1 AND expires > now()`,
		delete:       `DELETE FROM ` + t + ` WHERE id = $1`,
		userSessions: `SELECT id FROM ` + t + ` WHERE user_id = $1 AND expires > now()`,
		deleteUser:   `DELETE FROM ` + t + ` WHERE user_id = $1`,
		cleanup: `DELETE FROM ` + t + ` WHERE id IN (
			SELECT id FROM ` + t + ` WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
	}
}

// Migrate creates the table and its indexes if they are missing. It is
// idempotent, and safe to run from several instances at once: it holds a
// transaction-scoped advisory lock named after the table while it runs.
// It changes nothing in a table that exists.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("migrate", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "ctxsession-pgstore:"+s.table); err != nil {
		return wrap("migrate", err)
	}
	for _, q := range s.q.schema {
		if _, err := tx.Exec(ctx, q); err != nil {
			return wrap("migrate", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("migrate", err)
	}
	return nil
}
