package sessions

import (
	"math"
	"time"
)

// This file holds the time rules both modes share: MaxAge, IdleTimeout,
// AbsoluteTimeout and ClockSkew. New bounds MaxAge (MaxMaxAge) and
// ClockSkew (MaxClockSkew); the arithmetic here saturates all the same, so
// no duration or date can wrap around: time.Time.Sub saturates, and sums of
// durations go through addDurations.

// addDurations returns a+b for non-negative a and b, or the largest
// time.Duration when the sum would overflow.
func addDurations(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// checkAge applies MaxAge, IdleTimeout and ClockSkew to a signed timestamp.
func (m *Middleware) checkAge(issued, now time.Time) error {
	if issued.IsZero() {
		return nil
	}
	age := now.Sub(issued)
	switch {
	case age < -m.cfg.ClockSkew:
		return ErrFuture
	case age > m.cfg.MaxAge:
		return &ExpiredError{Issued: issued, Limit: m.cfg.MaxAge, Which: "MaxAge"}
	case m.cfg.IdleTimeout > 0 && age > m.cfg.IdleTimeout:
		return &ExpiredError{Issued: issued, Limit: m.cfg.IdleTimeout, Which: "IdleTimeout"}
	}
	return nil
}

// expiry returns when a session created at created and written at now must
// end.
func (m *Middleware) expiry(created, now time.Time) time.Time {
	exp := now.Add(m.cfg.MaxAge)
	if t := now.Add(m.cfg.IdleTimeout); m.cfg.IdleTimeout > 0 && t.Before(exp) {
		exp = t
	}
	if t := created.Add(m.cfg.AbsoluteTimeout); m.cfg.AbsoluteTimeout > 0 && !created.IsZero() && t.Before(exp) {
		exp = t
	}
	return exp
}

// cookieMaxAge is the cookie's Max-Age for a session ending at exp: 0 (no
// attribute) for BrowserSession, else whole seconds rounded up, at least 1
// and at most MaxMaxAge's.
func (m *Middleware) cookieMaxAge(exp, now time.Time) int {
	if m.cfg.BrowserSession {
		return 0
	}
	d := exp.Sub(now) // saturates
	secs := d / time.Second
	if d%time.Second > 0 {
		secs++
	}
	return int(min(max(secs, 1), MaxMaxAge/time.Second))
}
