package sqlitestore

import (
	"context"

	"github.com/ctxsession/sessions/internal/sqlkit"
)

// CleanupBatch is how many expired rows one DELETE of Cleanup removes at
// most, so that a large backlog never holds locks on many rows at once.
const CleanupBatch = 1000

// Cleanup deletes the expired rows now, CleanupBatch at a time, and
// returns how many it deleted.
func (s *Store) Cleanup(ctx context.Context) (int, error) {
	st, err := s.stmts(ctx)
	if err != nil {
		return 0, err
	}
	return sqlkit.Cleanup(ctx, CleanupBatch, func(ctx context.Context, limit int) (int64, error) {
		n, err := sqlkit.Exec(ctx, st.cleanup, limit)
		if err != nil {
			return 0, wrap("cleanup", err)
		}
		return n, nil
	})
}

// Close stops the background cleanup and waits for it to return (a
// cleanup in progress is canceled), then closes the prepared statements.
// The store stays usable, without background cleanup: it prepares them
// again on its next use. The db stays open: it is the caller's. Call Close
// once the store serves no more requests: a call in flight may fail with
// "statement is closed". It returns the error of closing a statement.
func (s *Store) Close() error {
	s.cleaner.Stop()
	if err := s.st.Close((*stmts).all); err != nil {
		return wrap("close", err)
	}
	return nil
}
