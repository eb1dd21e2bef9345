package sessions

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Time: every test runs on a settable clock; nothing sleeps.

func TestSecurityTimeMaxAgeBoundary(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			clk := newTestClock(secT0)
			cfg := SessionConfig{MaxAge: time.Hour, Now: clk.Now}
			if mode == "store" {
				cfg.Store = newSecMapStore()
			}
			m := secNew(t, cfg)
			v := secIssue(t, m, "alice", nil)

			clk.Set(secT0.Add(time.Hour))
			if seen := secLoad(t, m, "session="+v); seen.UserID != "alice" {
				t.Errorf("at exactly MaxAge: user %q, want alice", seen.UserID)
			}
			clk.Set(secT0.Add(time.Hour + time.Second))
			if seen := secLoad(t, m, "session="+v); seen.UserID != "" {
				t.Errorf("at MaxAge+1s: user %q, want none", seen.UserID)
			}
			if mode == "cookie" {
				clk.Set(secT0.Add(time.Hour))
				if _, err := m.Decode(context.Background(), v); err != nil {
					t.Errorf("Decode at exactly MaxAge: %v", err)
				}
				clk.Set(secT0.Add(time.Hour + time.Second))
				var ee *ExpiredError
				if _, err := m.Decode(context.Background(), v); !errors.As(err, &ee) || ee.Which != "MaxAge" || !errors.Is(err, ErrInvalidCookie) {
					t.Errorf("Decode at MaxAge+1s = %v, want an ExpiredError for MaxAge", err)
				}
			}
		})
	}
}

func TestSecurityTimeFutureBeyondSkew(t *testing.T) {
	cases := []struct {
		skew   time.Duration // configured
		ahead  time.Duration // how far in the future the cookie was signed
		accept bool
	}{
		{0, DefaultClockSkew, true}, // default skew: one minute
		{0, DefaultClockSkew + time.Second, false},
		{10 * time.Second, 10 * time.Second, true},
		{10 * time.Second, 11 * time.Second, false},
		{-1, 0, true}, // negative: no skew at all
		{-1, time.Second, false},
		{0, 100 * 365 * 24 * time.Hour, false},
	}
	for _, c := range cases {
		clk := newTestClock(secT0)
		m := secNew(t, SessionConfig{ClockSkew: c.skew, Now: clk.Now})
		v, err := encodeAt(m, map[string]any{"k": "v"}, secT0.Add(c.ahead))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Decode(context.Background(), v)
		if c.accept && err != nil {
			t.Errorf("skew %v, signed %v ahead: %v, want accepted", c.skew, c.ahead, err)
		}
		if !c.accept && !errors.Is(err, ErrFuture) {
			t.Errorf("skew %v, signed %v ahead: %v, want ErrFuture", c.skew, c.ahead, err)
		}
		seen := secLoad(t, m, "session="+v)
		if got := seen.Values["k"] == "v"; got != c.accept {
			t.Errorf("skew %v, signed %v ahead: middleware accepted = %v, want %v", c.skew, c.ahead, got, c.accept)
		}
	}
}

// Each timestamp is signed with the real key, so only the strict timestamp
// parser (and the age check) can reject it.
func TestSecurityTimeMalformedTimestamps(t *testing.T) {
	clk := newTestClock(secT0)
	m := secNew(t, SessionConfig{Now: clk.Now})
	s := secCodecSigner(t, m)
	payload, ts, _ := secParts(t, secValidCookie(t, m))
	enc := func(b ...byte) string { return b64.EncodeToString(b) }
	cases := []struct {
		name string
		ts   string
		want error
	}{
		{"genuine", ts, nil},
		{"empty", "", ErrMalformed},
		{"leading zero byte", enc(0, 0x69, 0x9b, 0x3c, 0x40), ErrMalformed},
		{"all zero", enc(0, 0, 0, 0), ErrMalformed},
		{"negative as int64", enc(0x80, 0, 0, 0, 0, 0, 0, 0), ErrMalformed},
		{"all ones", enc(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ErrMalformed},
		{"above 2^62", enc(0x40, 0, 0, 0, 0, 0, 0, 1), ErrMalformed},
		{"nine bytes", enc(1, 0, 0, 0, 0, 0, 0, 0, 0), ErrMalformed},
		{"twelve characters", "AAAAAAAAAAAA", ErrMalformed},
		{"one character", "A", ErrMalformed},
		{"padded", ts + "=", ErrMalformed},
		{"decimal", "1772366400", ErrMalformed},
		{"minus sign", "-w", ErrExpired}, // base64url: "-" is a digit; 0xfb is 1970
		{"zero", enc(0), ErrExpired},
		{"epoch plus one", enc(1), ErrExpired},
		{"year 2200", enc(intToBytes(uint64(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))...), ErrFuture},
	}
	for _, c := range cases {
		v := s.signRaw([]byte(payload + "." + c.ts))
		_, err := m.Decode(context.Background(), v)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%s (%q): %v, want accepted", c.name, c.ts, err)
		case c.want != nil && (!errors.Is(err, c.want) || !errors.Is(err, ErrInvalidCookie)):
			t.Errorf("%s (%q): %v, want %v", c.name, c.ts, err, c.want)
		}
		if c.want != nil {
			if seen := secLoad(t, m, "session="+v); len(seen.Values) != 0 {
				t.Errorf("%s: middleware accepted it", c.name)
			}
		}
	}
}

// secStep sends cookie at the clock's current time and returns the user the
// handler saw and the cookie to use next (the refreshed one, if set).
func secStep(t *testing.T, m *Middleware, cookie string) (string, string) {
	t.Helper()
	var seen secSeen
	w := secServe(m, secProbe(&seen, nil), "session="+cookie)
	if seen.Err != nil {
		t.Fatal(seen.Err)
	}
	if v, ok := secSetCookie(t, w, "session"); ok && v != "" {
		cookie = v
	}
	return seen.UserID, cookie
}

func TestSecurityTimeIdleTimeout(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			clk := newTestClock(secT0)
			cfg := SessionConfig{IdleTimeout: 30 * time.Minute, MaxAge: 24 * time.Hour, Now: clk.Now}
			if mode == "store" {
				cfg.Store = newSecMapStore()
			}
			m := secNew(t, cfg)
			c0 := secIssue(t, m, "alice", nil)

			clk.Set(secT0.Add(29 * time.Minute))
			user, c1 := secStep(t, m, c0)
			if user != "alice" {
				t.Fatalf("29 minutes idle: user %q, want alice", user)
			}
			if c1 == c0 {
				t.Fatal("an active session was not re-signed")
			}
			// The old cookie has been idle for 31 minutes; the refreshed one
			// for 2.
			clk.Set(secT0.Add(31 * time.Minute))
			if user, _ := secStep(t, m, c1); user != "alice" {
				t.Errorf("refreshed cookie after 2 idle minutes: user %q, want alice", user)
			}
			if mode == "cookie" {
				if user, _ := secStep(t, m, c0); user != "" {
					t.Errorf("cookie idle 31 minutes: user %q, want none", user)
				}
				var ee *ExpiredError
				if _, err := m.Decode(context.Background(), c0); !errors.As(err, &ee) || ee.Which != "IdleTimeout" {
					t.Errorf("Decode(idle cookie) = %v, want an IdleTimeout ExpiredError", err)
				}
			}
			clk.Set(secT0.Add(29*time.Minute + 30*time.Minute + time.Second))
			if user, _ := secStep(t, m, c1); user != "" {
				t.Errorf("refreshed cookie idle 30m1s: user %q, want none", user)
			}
		})
	}
}

func TestSecurityTimeAbsoluteTimeout(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			clk := newTestClock(secT0)
			cfg := SessionConfig{AbsoluteTimeout: 2 * time.Hour, IdleTimeout: 30 * time.Minute, Now: clk.Now}
			if mode == "store" {
				cfg.Store = newSecMapStore()
			}
			m := secNew(t, cfg)
			cookie := secIssue(t, m, "alice", nil)
			// Active every 20 minutes: the idle timeout never ends it.
			for at := 20 * time.Minute; at <= 2*time.Hour; at += 20 * time.Minute {
				clk.Set(secT0.Add(at))
				var user string
				user, cookie = secStep(t, m, cookie)
				if user != "alice" {
					t.Fatalf("active session at %v: user %q, want alice", at, user)
				}
			}
			clk.Set(secT0.Add(2*time.Hour + time.Second))
			if user, _ := secStep(t, m, cookie); user != "" {
				t.Errorf("2h1s after login, active: user %q, want none", user)
			}
			if mode == "cookie" {
				var ee *ExpiredError
				if _, err := m.Decode(context.Background(), cookie); !errors.As(err, &ee) || ee.Which != "AbsoluteTimeout" {
					t.Errorf("Decode = %v, want an AbsoluteTimeout ExpiredError", err)
				}
			}
		})
	}
}
