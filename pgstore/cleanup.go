package pgstore

import (
	"context"
	"sync"
	"time"
)

// CleanupBatch is how many expired rows one DELETE of Cleanup removes at
// most, so that a large backlog never holds locks on many rows at once.
const CleanupBatch = 1000

// Cleanup deletes the expired rows now, CleanupBatch at a time, and
// returns how many it deleted. Rows another Cleanup is deleting at the same
// moment are skipped, not waited for.
func (s *Store) Cleanup(ctx context.Context) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, s.q.cleanup, CleanupBatch)
		if err != nil {
			return total, wrap("cleanup", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < CleanupBatch {
			return total, nil
		}
	}
}

// Close stops the background cleanup and waits for it to return (a
// cleanup in progress is canceled). The store stays usable, without
// background cleanup, and the pool stays open: it is the caller's. Calling
// Close again does nothing. It always returns nil.
func (s *Store) Close() error {
	s.cleaner.stop()
	return nil
}

// cleaner runs Cleanup every interval until stopped.
type cleaner struct {
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

func startCleaner(s *Store, interval time.Duration) *cleaner {
	ctx, cancel := context.WithCancel(context.Background())
	c := &cleaner{cancel: cancel, done: make(chan struct{})}
	if interval <= 0 {
		close(c.done)
		return c
	}
	go func() {
		defer close(c.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				run(ctx, s, interval)
			}
		}
	}()
	return c
}

// run is one background cleanup, bounded by the interval.
func run(ctx context.Context, s *Store, interval time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	if _, err := s.Cleanup(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "pgstore: background cleanup failed", "table", s.table, "err", err)
	}
}

func (c *cleaner) stop() {
	c.once.Do(c.cancel)
	<-c.done
}
