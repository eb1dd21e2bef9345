package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenSetsWALAndBusyTimeout(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "odd ?#% name.db"))
	var mode string
	var timeout int
	require.NoError(t, db.QueryRowContext(ctxT(t), `PRAGMA journal_mode`).Scan(&mode))
	require.NoError(t, db.QueryRowContext(ctxT(t), `PRAGMA busy_timeout`).Scan(&timeout))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, sqlitestore.DefaultBusyTimeout, timeout)
}
