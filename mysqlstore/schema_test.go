package mysqlstore_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithTableRefusesInvalidNames(t *testing.T) {
	db := openDB(t, "tcp", serverAddr)
	bad := sqltest.BadTableNames("`", "test")
	for _, name := range bad {
		assert.PanicsWithError(t,
			`mysqlstore: invalid table name `+strconv.Quote(name)+`: want a letter or underscore, then up to 47 letters, digits or underscores`,
			func() { mysqlstore.New(db, mysqlstore.WithTable(name)) }, "WithTable(%q)", name)
	}
	for _, name := range sqltest.GoodTableNames {
		assert.NotPanics(t, func() { mysqlstore.New(db, mysqlstore.WithTable(name), mysqlstore.WithCleanupInterval(0)) }, "WithTable(%q)", name)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := openDB(t, "tcp", serverAddr)
	table := newTable(t, db) // migrated once already
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	require.NoError(t, s.Migrate(ctxT(t)))

	// Instances starting together migrate a new table at once.
	fresh := newTable(t, db)
	_, err := db.ExecContext(ctxT(t), "DROP TABLE `"+fresh+"`")
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			errs[i] = mysqlstore.New(db, mysqlstore.WithTable(fresh), mysqlstore.WithCleanupInterval(0)).Migrate(ctxT(t))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	var indexes int
	require.NoError(t, db.QueryRowContext(ctxT(t), `SELECT count(DISTINCT index_name) FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name = ?`, fresh).Scan(&indexes))
	assert.Equal(t, 3, indexes, "primary key, user_id and expires indexes")
}

// TestStoreBeforeMigrate uses a store whose table does not exist yet: its
// calls fail (preparing their statements fails), and work once Migrate
// has run.
func TestStoreBeforeMigrate(t *testing.T) {
	db := openDB(t, "tcp", serverAddr)
	table := newTable(t, db)
	_, err := db.ExecContext(ctxT(t), "DROP TABLE `"+table+"`")
	require.NoError(t, err)
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	t.Cleanup(func() { s.Close() })
	_, _, err = s.Find(ctxT(t), "x")
	require.ErrorContains(t, err, "doesn't exist")
	require.NoError(t, s.Migrate(ctxT(t)))
	_, found, err := s.Find(ctxT(t), "x")
	require.NoError(t, err)
	assert.False(t, found)
}
