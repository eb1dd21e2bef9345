package pgstore

import (
	"context"

	"github.com/ctxsession/sessions/internal/sqlkit"
)

// CleanupBatch is how many expired rows one DELETE of Cleanup removes at
// most, so that a large backlog never holds locks on many rows at once.
const CleanupBatch = 1000

// Cleanup deletes the expired rows now, CleanupBatch at a time, and
// returns how many it deleted. Rows another Cleanup is deleting at the same
// moment are skipped, not waited for.
func (s *Store) Cleanup(ctx context.Context) (int, error) {
	return sqlkit.Cleanup(ctx, CleanupBatch, func(ctx context.Context, limit int) (int64, error) {
		tag, err := s.pool.Exec(ctx, s.q.cleanup, limit)
		if err != nil {
			return 0, wrap("cleanup", err)
		}
		return tag.RowsAffected(), nil
	})
}

// Close stops the background cleanup and waits for it to return (a
// cleanup in progress is canceled). The store stays usable, without
// background cleanup, and the pool stays open: it is the caller's. Calling
// Close again does nothing. It always returns nil.
func (s *Store) Close() error {
	s.cleaner.Stop()
	return nil
}
