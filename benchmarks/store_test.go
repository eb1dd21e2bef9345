package benchmarks

import (
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// storeImpls returns this module's store modes under test: the cookie
// carries a signed session id and the store the JSON payload.
func storeImpls(tb testing.TB) []impl {
	mem := memstore.New(memstore.WithCleanupInterval(time.Hour))
	tb.Cleanup(func() { mem.Close() })
	return []impl{
		ctxImpl(tb, "ctxsession-memstore", sessions.SessionConfig{SecretKey: secret, Store: mem}),
	}
}
