package main

import (
	"context"
	"errors"
	"strings"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// openStore opens the store -store names: "memory", a redis:// or
// rediss:// URL, or a directory. It returns the store, a description for
// the page footer, and a function that releases it.
func openStore(ctx context.Context, spec string) (sessions.Store, string, func(), error) {
	switch {
	case spec == "memory":
		s := memstore.New()
		return s, "in memory", func() { s.Close() }, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		return openRedis(ctx, spec)
	case strings.Contains(spec, "://"):
		return nil, "", nil, errors.New(`want "memory", a directory, or a redis:// URL, not ` + spec)
	}
	return openDir(spec)
}
