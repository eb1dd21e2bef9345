package pgstore_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithTableRefusesInvalidNames(t *testing.T) {
	pool := newPool(t, serverAddr)
	bad := sqltest.BadTableNames(`"`, "public")
	for _, name := range bad {
		assert.PanicsWithError(t,
			`pgstore: invalid table name `+strconv.Quote(name)+`: want a letter or underscore, then up to 47 letters, digits or underscores`,
			func() { pgstore.New(pool, pgstore.WithTable(name)) }, "WithTable(%q)", name)
	}
	for _, name := range sqltest.GoodTableNames {
		assert.NotPanics(t, func() { pgstore.New(pool, pgstore.WithTable(name), pgstore.WithCleanupInterval(0)) }, "WithTable(%q)", name)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	pool := newPool(t, serverAddr)
	table := newTable(t, pool) // migrated once already
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	require.NoError(t, s.Migrate(ctxT(t)))

	// Instances starting together migrate a new table at once.
	fresh := newTable(t, pool)
	_, err := pool.Exec(ctxT(t), `DROP TABLE "`+fresh+`"`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			errs[i] = pgstore.New(pool, pgstore.WithTable(fresh), pgstore.WithCleanupInterval(0)).Migrate(ctxT(t))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	var indexes int
	require.NoError(t, pool.QueryRow(ctxT(t), `SELECT count(*) FROM pg_indexes WHERE tablename = $1`, fresh).Scan(&indexes))
	assert.Equal(t, 3, indexes, "primary key, user_id and expires indexes")
}
