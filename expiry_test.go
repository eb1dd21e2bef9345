package sessions_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
)

// Time: every test runs on a settable clock; nothing sleeps.

func TestIdleTimeoutThrottledRefresh(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{IdleTimeout: time.Hour})
	cookie := e.Mint(map[string]any{"k": "v"})
	visit := func() (keys int, set *http.Cookie) {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { keys = sessions.MustSession(t, r).Len() }, cookie)
		set = testkit.SetCookie(t, rec.Header(), "session")
		if set != nil {
			cookie = set.Value
		}
		return keys, set
	}
	e.Clock.Add(14 * time.Minute)
	if n, c := visit(); n != 1 || c != nil {
		t.Errorf("before a quarter of the window: %d keys, cookie %v; want 1 key, no cookie", n, c)
	}
	e.Clock.Add(time.Minute) // 15 minutes: a quarter
	n, c := visit()
	if n != 1 || c == nil {
		t.Fatalf("after a quarter of the window: %d keys, cookie %v; want a refreshed cookie", n, c)
	}
	if c.MaxAge != 3600 {
		t.Errorf("refreshed cookie Max-Age %d, want 3600", c.MaxAge)
	}
	// Active use keeps it alive well beyond the first hour...
	for range 6 {
		e.Clock.Add(50 * time.Minute)
		if n, _ := visit(); n != 1 {
			t.Fatalf("active session expired at %v", e.Clock.Now().Sub(sessions.TestStart))
		}
	}
	// ...but an hour and a second of inactivity ends it.
	e.Clock.Add(time.Hour + time.Second)
	if n, _ := visit(); n != 0 {
		t.Errorf("idle session still alive")
	}
	rej := e.Logs.Rejections()
	var exp *sessions.ExpiredError
	if len(rej) != 1 || !errors.As(rej[0], &exp) || exp.Which != "IdleTimeout" {
		t.Errorf("rejections %v, want one IdleTimeout", rej)
	}
}

// A cookie without our metadata (minted by another system) is counted from
// its signed timestamp, and refreshing it must not restart that count.
func TestAbsoluteTimeoutForeignCookie(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	cookie, err := sessions.CodecOf(e.M).Encode([]byte(`{"k":"v"}`), e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var created time.Time
	alive := func() bool {
		n := 0
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
			s := sessions.MustSession(t, r)
			n, created = s.Len(), s.Created()
		}, cookie)
		if c := testkit.SetCookie(t, rec.Header(), "session"); c != nil {
			cookie = c.Value
		}
		return n == 1
	}
	for range 2 { // 50 and 100 minutes: refreshed
		e.Clock.Add(50 * time.Minute)
		if !alive() {
			t.Fatalf("session ended early, at %v", e.Clock.Now().Sub(sessions.TestStart))
		}
		if !created.Equal(sessions.TestStart) {
			t.Errorf("Created() = %v, want the signed time %v", created, sessions.TestStart)
		}
	}
	e.Clock.Add(50 * time.Minute) // 150 minutes
	if alive() {
		t.Errorf("foreign cookie alive after AbsoluteTimeout: a refresh restarted its lifetime")
	}
}

// step sends cookie at the clock's current time and returns the user the
// handler saw and the cookie to use next (the refreshed one, if set).
func step(t *testing.T, e *sessions.Env, cookie string) (string, string) {
	t.Helper()
	v := e.Visit(cookie, nil)
	if v.Seen.Err != nil {
		t.Fatal(v.Seen.Err)
	}
	if v.Cookie != "" {
		cookie = v.Cookie
	}
	return v.Seen.UserID, cookie
}

func TestSecurityTimeIdleTimeout(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			clk := sessions.NewClock(sessions.TestStart)
			cfg := sessions.SessionConfig{IdleTimeout: 30 * time.Minute, MaxAge: 24 * time.Hour, Now: clk.Now}
			if mode == "store" {
				cfg.Store = faultstore.NewMem(t)
			}
			e := sessions.NewEnv(t, cfg)
			c0 := e.Issue("alice", nil)

			clk.Set(sessions.TestStart.Add(29 * time.Minute))
			user, c1 := step(t, e, c0)
			if user != "alice" {
				t.Fatalf("29 minutes idle: user %q, want alice", user)
			}
			if c1 == c0 {
				t.Fatal("an active session was not re-signed")
			}
			// The old cookie has been idle for 31 minutes; the refreshed one
			// for 2.
			clk.Set(sessions.TestStart.Add(31 * time.Minute))
			if user, _ := step(t, e, c1); user != "alice" {
				t.Errorf("refreshed cookie after 2 idle minutes: user %q, want alice", user)
			}
			if mode == "cookie" {
				if user, _ := step(t, e, c0); user != "" {
					t.Errorf("cookie idle 31 minutes: user %q, want none", user)
				}
				var ee *sessions.ExpiredError
				if _, err := e.M.Decode(context.Background(), c0); !errors.As(err, &ee) || ee.Which != "IdleTimeout" {
					t.Errorf("Decode(idle cookie) = %v, want an IdleTimeout ExpiredError", err)
				}
			}
			clk.Set(sessions.TestStart.Add(29*time.Minute + 30*time.Minute + time.Second))
			if user, _ := step(t, e, c1); user != "" {
				t.Errorf("refreshed cookie idle 30m1s: user %q, want none", user)
			}
		})
	}
}

// modes returns a configuration for each backend: cookie mode, and store
// mode on a fresh store.
func modes(t *testing.T, cfg sessions.SessionConfig) map[string]sessions.SessionConfig {
	store := cfg
	store.Store = faultstore.NewMem(t)
	return map[string]sessions.SessionConfig{"cookie": cfg, "store": store}
}

func TestSecurityTimeMaxAgeBoundary(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{MaxAge: time.Hour}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			v := e.Issue("alice", nil)
			// The cookie's Max-Age matches MaxAge.
			if c := e.Visit("", func(_ *http.Request, s *sessions.Session) { s.Set("k", 1) }); c.Rec.Result().Cookies()[0].MaxAge != 3600 {
				t.Errorf("cookie %v, want Max-Age 3600", c.Rec.Result().Cookies())
			}

			e.Clock.Set(sessions.TestStart.Add(time.Hour))
			if seen := e.Load("session=" + v); seen.UserID != "alice" {
				t.Errorf("at exactly MaxAge: user %q, want alice", seen.UserID)
			}
			if rej := e.Logs.Rejections(); len(rej) != 0 {
				t.Errorf("at exactly MaxAge: rejections %v, want none", rej)
			}
			e.Clock.Set(sessions.TestStart.Add(time.Hour + time.Second))
			if seen := e.Load("session=" + v); seen.UserID != "" {
				t.Errorf("at MaxAge+1s: user %q, want none", seen.UserID)
			}
			if mode == "cookie" {
				var exp *sessions.ExpiredError
				if rej := e.Logs.Rejections(); len(rej) != 1 || !errors.As(rej[0], &exp) || exp.Which != "MaxAge" || !errors.Is(rej[0], sessions.ErrExpired) {
					t.Errorf("after MaxAge: rejections %v, want an ExpiredError for MaxAge", rej)
				}
				e.Clock.Set(sessions.TestStart.Add(time.Hour))
				if _, err := e.M.Decode(context.Background(), v); err != nil {
					t.Errorf("Decode at exactly MaxAge: %v", err)
				}
				e.Clock.Set(sessions.TestStart.Add(time.Hour + time.Second))
				var ee *sessions.ExpiredError
				if _, err := e.M.Decode(context.Background(), v); !errors.As(err, &ee) || ee.Which != "MaxAge" || !errors.Is(err, sessions.ErrInvalidCookie) {
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
		{0, 30 * time.Second, true}, // default skew: one minute
		{0, sessions.DefaultClockSkew, true},
		{0, sessions.DefaultClockSkew + time.Second, false},
		{10 * time.Second, 10 * time.Second, true},
		{10 * time.Second, 11 * time.Second, false},
		{5 * time.Minute, 4 * time.Minute, true},
		{5 * time.Minute, 6 * time.Minute, false},
		{-1, 0, true}, // negative: no skew at all
		{-1, time.Second, false},
		{0, 100 * 365 * 24 * time.Hour, false},
	}
	for _, c := range cases {
		e := sessions.NewEnv(t, sessions.SessionConfig{ClockSkew: c.skew})
		v := e.MintAt(map[string]any{"k": "v"}, sessions.TestStart.Add(c.ahead))
		_, err := e.M.Decode(context.Background(), v)
		if c.accept && err != nil {
			t.Errorf("skew %v, signed %v ahead: %v, want accepted", c.skew, c.ahead, err)
		}
		if !c.accept && !errors.Is(err, sessions.ErrFuture) {
			t.Errorf("skew %v, signed %v ahead: %v, want ErrFuture", c.skew, c.ahead, err)
		}
		seen := e.Load("session=" + v)
		if got := seen.Values["k"] == "v"; got != c.accept {
			t.Errorf("skew %v, signed %v ahead: middleware accepted = %v, want %v", c.skew, c.ahead, got, c.accept)
		}
		rej := e.Logs.Rejections()
		if c.accept && len(rej) != 0 {
			t.Errorf("skew %v, signed %v ahead: rejections %v, want none", c.skew, c.ahead, rej)
		}
		if !c.accept && (len(rej) != 1 || !errors.Is(rej[0], sessions.ErrFuture)) {
			t.Errorf("skew %v, signed %v ahead: rejections %v, want ErrFuture", c.skew, c.ahead, rej)
		}
	}
}

func TestSecurityTimeAbsoluteTimeout(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{AbsoluteTimeout: 2 * time.Hour, IdleTimeout: 30 * time.Minute}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			cookie := e.Issue("alice", nil)
			// Active every 20 minutes: the idle timeout never ends it, and
			// each request refreshes the cookie.
			for at := 20 * time.Minute; at <= 2*time.Hour; at += 20 * time.Minute {
				e.Clock.Set(sessions.TestStart.Add(at))
				v := e.MustVisit(cookie, nil)
				if v.Seen.UserID != "alice" {
					t.Fatalf("active session at %v: user %q, want alice", at, v.Seen.UserID)
				}
				if v.Cookie == "" {
					t.Fatalf("active session at %v: not refreshed", at)
				}
				cookie = v.Cookie
				// At 100 minutes the refreshed cookie may live only 20 more
				// minutes, not the 30 of the idle timeout.
				if c := v.Rec.Result().Cookies()[0]; at == 100*time.Minute && c.MaxAge != 20*60 {
					t.Errorf("refresh at %v: Max-Age %d, want 1200, capped by AbsoluteTimeout", at, c.MaxAge)
				}
			}
			e.Clock.Set(sessions.TestStart.Add(2*time.Hour + time.Second))
			if user, _ := step(t, e, cookie); user != "" {
				t.Errorf("2h1s after login, active: user %q, want none", user)
			}
			if mode == "cookie" {
				var ee *sessions.ExpiredError
				if _, err := e.M.Decode(context.Background(), cookie); !errors.As(err, &ee) || ee.Which != "AbsoluteTimeout" || !ee.Issued.Equal(sessions.TestStart) {
					t.Errorf("Decode = %v, want an AbsoluteTimeout ExpiredError counted from %v", err, sessions.TestStart)
				}
			}
		})
	}
}
