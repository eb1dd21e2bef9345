package sessions_test

import (
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
)

// Store mode, unit level: the real memstore, wrapped by faultStore to count
// calls and to fail on demand.

// TestStoreFakeClock checks that a middleware clock far from the wall
// clock neither expires records at once nor lets them outlive MaxAge.
func TestStoreFakeClock(t *testing.T) {
	for _, base := range []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(10 * 365 * 24 * time.Hour)} {
		e := newStEnv(t, func(c *sessions.SessionConfig) {
			c.Now = func() time.Time { return base }
			c.MaxAge = time.Hour
		})
		c := e.do("", set("k", "v")).cookie
		if v, _ := e.read(c, "k"); v != "v" {
			t.Fatalf("clock %v: session lost at once (%q)", base, v)
		}
		// The record ends MaxAge from now on the wall clock.
		exp := e.store.lastExpiry.Load().(time.Time)
		if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("clock %v: record expires in %v; want about 1h of wall time", base, d)
		}
	}
}
