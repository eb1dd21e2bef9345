package sqltest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// RandomTable is a fresh table name, so that tests running at once on one
// database never share a table.
func RandomTable() string {
	var b [6]byte
	rand.Read(b[:])
	return "sessionstest_" + hex.EncodeToString(b[:])
}

// BadTableNames are names a store must refuse: empty, too long, not an
// identifier, or trying to leave the quotes (quote is the database's
// identifier quote) or to name another schema (schema is one of its
// schemas).
func BadTableNames(quote, schema string) []string {
	return []string{
		"", "1sessions", "sessions; DROP TABLE users; --", "sessions" + quote, "x" + quote + " (id int); --",
		schema + ".sessions", "sess ions", "sessions\x00", "séssions", "sessions-1",
		strings.Repeat("a", 49),
	}
}

// GoodTableNames are names a store must accept, the longest among them.
var GoodTableNames = []string{"s", "_s", "Sessions_2", strings.Repeat("a", 48)}
