package sqlitestore

import (
	"database/sql"
	"net/url"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultBusyTimeout is how long, in milliseconds, a connection Open makes
// waits for another writer to finish before failing with SQLITE_BUSY.
const DefaultBusyTimeout = 5000

// Open opens (creating it if needed) the SQLite database file at path, set
// up for the store: WAL journal (readers never wait for the writer, nor it
// for them), a busy timeout of DefaultBusyTimeout ms (a writer waits for the
// one before it rather than fail; the wait ends early when the call's
// context is done), and synchronous=NORMAL (with WAL, a commit survives an
// application crash, and only the last commits can be lost in a power
// failure). Close the returned db when done. To open the file some other
// way, set at least busy_timeout and journal_mode=WAL on every connection.
func Open(path string) (*sql.DB, error) {
	q := url.Values{"_pragma": {"busy_timeout(" + strconv.Itoa(DefaultBusyTimeout) + ")", "journal_mode(WAL)", "synchronous(NORMAL)"}}
	return sql.Open("sqlite", "file:"+uriEscape.Replace(path)+"?"+q.Encode())
}

// uriEscape escapes the characters an SQLite URI filename cannot hold.
var uriEscape = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
