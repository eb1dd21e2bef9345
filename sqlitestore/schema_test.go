package sqlitestore_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithTableRefusesInvalidNames(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	bad := sqltest.BadTableNames(`"`, "main")
	for _, name := range bad {
		assert.PanicsWithError(t,
			`sqlitestore: invalid table name `+strconv.Quote(name)+`: want a letter or underscore, then up to 47 letters, digits or underscores`,
			func() { sqlitestore.New(db, sqlitestore.WithTable(name)) }, "WithTable(%q)", name)
	}
	for _, name := range sqltest.GoodTableNames {
		s := sqlitestore.New(db, sqlitestore.WithTable(name), sqlitestore.WithCleanupInterval(0))
		require.NoError(t, s.Migrate(ctxT(t)), "WithTable(%q)", name)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	s, db, _ := newStore(t)
	require.NoError(t, s.Migrate(ctxT(t)))
	require.NoError(t, sqlitestore.New(db, sqlitestore.WithCleanupInterval(0)).Migrate(ctxT(t)))
	var indexes string
	require.NoError(t, db.QueryRowContext(ctxT(t), `SELECT group_concat(name, ' ') FROM
		(SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'sessions' ORDER BY name)`).Scan(&indexes))
	assert.Equal(t, "sessions_expires_idx sessions_user_id_idx", indexes, "the primary key is the table (WITHOUT ROWID)")
}
