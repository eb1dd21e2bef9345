package main

import (
	"context"
	"errors"
	"strings"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// openStore opens the store -store names: "memory" or a directory. It returns the store, a description for
// the page footer, and a function that releases it.
func openStore(_ context.Context, spec string) (sessions.Store, string, func(), error) {
	switch {
	case spec == "memory":
		s := memstore.New()
		return s, "in memory", func() { s.Close() }, nil
	case strings.Contains(spec, "://"):
		return nil, "", nil, errors.New(`want "memory", or a directory, not ` + spec)
	}
	return openDir(spec)
}
