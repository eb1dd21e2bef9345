package sqlitestore

import (
	"context"
	"sync"
	"time"
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
	total := 0
	for {
		res, err := st.cleanup.ExecContext(ctx, CleanupBatch)
		if err != nil {
			return total, wrap("cleanup", err)
		}
		n64, err := res.RowsAffected()
		if err != nil {
			return total, wrap("cleanup", err)
		}
		n := int(n64)
		total += n
		if n < CleanupBatch {
			return total, nil
		}
	}
}

// Close stops the background cleanup and waits for it to return (a
// cleanup in progress is canceled), then closes the prepared statements.
// The store stays usable, without background cleanup: it prepares them
// again on its next use. The db stays open: it is the caller's. Call Close
// once the store serves no more requests: a call in flight may fail with
// "statement is closed". It returns the error of closing a statement.
func (s *Store) Close() error {
	s.cleaner.stop()
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if st := s.st.Swap(nil); st != nil {
		return wrapNil(st.close())
	}
	return nil
}

func wrapNil(err error) error {
	if err != nil {
		return wrap("close", err)
	}
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
		s.log.ErrorContext(ctx, "sqlitestore: background cleanup failed", "table", s.table, "err", err)
	}
}

func (c *cleaner) stop() {
	c.once.Do(c.cancel)
	<-c.done
}
