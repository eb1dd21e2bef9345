package sessions

import (
	"sync"
	"time"
)

// testClock is a settable clock for SessionConfig.Now, safe for concurrent
// use by the handler and the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// newTestClock returns a clock standing at start.
func newTestClock(start time.Time) *testClock { return &testClock{t: start} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// encodeAt is Middleware.Encode at a chosen issue time.
func encodeAt(m *Middleware, values map[string]any, now time.Time) (string, error) {
	c := *m
	c.now = func() time.Time { return now }
	return c.Encode(values)
}
