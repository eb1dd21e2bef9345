package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// storeForms lists what -store accepts, for its usage and its errors.
const storeForms = `"memory", "dir:PATH" (created if missing), the path of an existing directory, "sqlite:PATH", or a redis://, rediss://, postgres:// or mysql:// URL`

// openStore opens the store -store names (see storeForms). It returns the
// store, a description for the page footer, and a function that releases
// it. A directory that does not exist is created only when named with
// "dir:", so a mistyped "memory" is an error, not a new file store.
func openStore(ctx context.Context, spec string) (sessions.Store, string, func(), error) {
	switch {
	case spec == "memory":
		s := memstore.New()
		return s, "in memory", func() { s.Close() }, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		return openRedis(ctx, spec)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openPostgres(ctx, spec)
	case strings.HasPrefix(spec, "mysql://"):
		return openMySQL(ctx, spec)
	case strings.HasPrefix(spec, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(spec, "sqlite:"))
	case strings.HasPrefix(spec, "dir:"):
		dir := strings.TrimPrefix(spec, "dir:")
		if dir == "" {
			return nil, "", nil, fmt.Errorf(`"dir:" needs a path, as in dir:./sessions`)
		}
		return openDir(dir)
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return openDir(spec)
	}
	return nil, "", nil, fmt.Errorf("%q is not a store: want %s", spec, storeForms)
}
