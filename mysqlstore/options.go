package mysqlstore

import (
	"log/slog"
	"time"

	"github.com/ctxsession/sessions/internal/sqlkit"
)

// DefaultTable is the table the store uses unless WithTable says otherwise.
const DefaultTable = "sessions"

// DefaultCleanupInterval is how often the background cleanup runs unless
// WithCleanupInterval says otherwise.
const DefaultCleanupInterval = 5 * time.Minute

// An Option configures New.
type Option func(*options)

type options = sqlkit.Options

// WithTable sets the table's name, so that several applications can share
// a database. Default DefaultTable. The name must be a letter or an
// underscore followed by at most 47 letters, digits or underscores (ASCII);
// New panics on any other, so no name can smuggle SQL into the queries. It
// is quoted (whether it is case-sensitive is the server's lower_case_table_names).
func WithTable(name string) Option { return func(o *options) { o.Table = name } }

// WithCleanupInterval sets how often the background cleanup deletes
// expired rows. Zero or negative starts no cleanup: expired rows are then
// only hidden, until Cleanup is called. Default DefaultCleanupInterval.
// With several application instances, each runs its own cleanup; that is
// harmless, as the deletes do not conflict.
func WithCleanupInterval(d time.Duration) Option { return func(o *options) { o.Interval = d } }

// WithLogger sets the logger that receives the background cleanup's errors
// (level error). Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.Log = l
		}
	}
}
