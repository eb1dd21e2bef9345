package sessions_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
)

// Time: every test runs on a settable clock; nothing sleeps.

// modes returns a configuration for each backend: cookie mode, and store
// mode on a fresh store.
func modes(t *testing.T, cfg sessions.SessionConfig) map[string]sessions.SessionConfig {
	store := cfg
	store.Store = faultstore.NewMem(t)
	return map[string]sessions.SessionConfig{"cookie": cfg, "store": store}
}

// step sends cookie at the clock's current time and returns the user the
// handler saw and the cookie to use next (the refreshed one, if set).
func step(t *testing.T, e *sessions.Env, cookie string) (string, string) {
	t.Helper()
	v := e.Visit(cookie, nil)
	require.NoError(t, v.Seen.Err)
	if v.Cookie != "" {
		cookie = v.Cookie
	}
	return v.Seen.UserID, cookie
}

// requireExpired checks that err is an ExpiredError for the limit which.
func requireExpired(t *testing.T, err error, which string) *sessions.ExpiredError {
	t.Helper()
	require.ErrorIs(t, err, sessions.ErrExpired)
	require.ErrorIs(t, err, sessions.ErrInvalidCookie)
	var ee *sessions.ExpiredError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, which, ee.Which)
	return ee
}

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
	n, c := visit()
	assert.Equal(t, 1, n, "keys before a quarter of the window")
	assert.Nil(t, c, "a cookie before a quarter of the window")
	e.Clock.Add(time.Minute) // 15 minutes: a quarter
	n, c = visit()
	require.Equal(t, 1, n, "keys after a quarter of the window")
	require.NotNil(t, c, "no refreshed cookie after a quarter of the window")
	assert.Equal(t, 3600, c.MaxAge, "the refreshed cookie's Max-Age")
	// Active use keeps it alive well beyond the first hour...
	for range 6 {
		e.Clock.Add(50 * time.Minute)
		n, _ := visit()
		require.Equal(t, 1, n, "active session expired at %v", e.Clock.Now().Sub(sessions.TestStart))
	}
	// ...but an hour and a second of inactivity ends it.
	e.Clock.Add(time.Hour + time.Second)
	n, _ = visit()
	assert.Zero(t, n, "the idle session is still alive")
	rej := e.Logs.Rejections()
	require.Len(t, rej, 1, "rejections")
	requireExpired(t, rej[0], "IdleTimeout")
}

// A cookie without our metadata (minted by another system) is counted from
// its signed timestamp, and refreshing it must not restart that count.
func TestAbsoluteTimeoutForeignCookie(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	cookie, err := sessions.CodecOf(e.M).Encode([]byte(`{"k":"v"}`), e.Clock.Now())
	require.NoError(t, err)
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
		require.True(t, alive(), "the session ended early, at %v", e.Clock.Now().Sub(sessions.TestStart))
		assert.True(t, created.Equal(sessions.TestStart), "Created() = %v, want the signed time %v", created, sessions.TestStart)
	}
	e.Clock.Add(50 * time.Minute) // 150 minutes
	assert.False(t, alive(), "a foreign cookie alive after AbsoluteTimeout: a refresh restarted its lifetime")
}

func TestSecurityTimeIdleTimeout(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{IdleTimeout: 30 * time.Minute, MaxAge: 24 * time.Hour}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			c0 := e.Issue("alice", nil)

			e.Clock.Set(sessions.TestStart.Add(29 * time.Minute))
			user, c1 := step(t, e, c0)
			require.Equal(t, "alice", user, "29 minutes idle")
			require.NotEqual(t, c0, c1, "an active session was not re-signed")
			// The old cookie has been idle for 31 minutes; the refreshed one
			// for 2.
			e.Clock.Set(sessions.TestStart.Add(31 * time.Minute))
			user, _ = step(t, e, c1)
			assert.Equal(t, "alice", user, "the refreshed cookie after 2 idle minutes")
			if mode == "cookie" {
				user, _ = step(t, e, c0)
				assert.Empty(t, user, "a cookie idle 31 minutes")
				_, err := e.M.Decode(context.Background(), c0)
				requireExpired(t, err, "IdleTimeout")
			}
			e.Clock.Set(sessions.TestStart.Add(29*time.Minute + 30*time.Minute + time.Second))
			user, _ = step(t, e, c1)
			assert.Empty(t, user, "the refreshed cookie idle 30m1s")
		})
	}
}

func TestSecurityTimeMaxAgeBoundary(t *testing.T) {
	for mode, cfg := range modes(t, sessions.SessionConfig{MaxAge: time.Hour}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			v := e.Issue("alice", nil)
			// The cookie's Max-Age matches MaxAge.
			set := e.Visit("", func(_ *http.Request, s *sessions.Session) { s.Set("k", 1) })
			c := testkit.SetCookie(t, set.Rec.Header(), "session")
			require.NotNil(t, c)
			assert.Equal(t, 3600, c.MaxAge)

			e.Clock.Set(sessions.TestStart.Add(time.Hour))
			assert.Equal(t, "alice", e.Load("session="+v).UserID, "at exactly MaxAge")
			assert.Empty(t, e.Logs.Rejections(), "at exactly MaxAge")
			e.Clock.Set(sessions.TestStart.Add(time.Hour + time.Second))
			assert.Empty(t, e.Load("session="+v).UserID, "at MaxAge+1s")
			if mode == "cookie" {
				rej := e.Logs.Rejections()
				require.Len(t, rej, 1, "rejections after MaxAge")
				requireExpired(t, rej[0], "MaxAge")
				e.Clock.Set(sessions.TestStart.Add(time.Hour))
				_, err := e.M.Decode(context.Background(), v)
				assert.NoError(t, err, "Decode at exactly MaxAge")
				e.Clock.Set(sessions.TestStart.Add(time.Hour + time.Second))
				_, err = e.M.Decode(context.Background(), v)
				requireExpired(t, err, "MaxAge")
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
		seen := e.Load("session=" + v)
		rej := e.Logs.Rejections()
		if c.accept {
			assert.NoError(t, err, "skew %v, signed %v ahead", c.skew, c.ahead)
			assert.Equal(t, "v", seen.Values["k"], "skew %v, signed %v ahead: the middleware", c.skew, c.ahead)
			assert.Empty(t, rej, "skew %v, signed %v ahead: rejections", c.skew, c.ahead)
			continue
		}
		assert.ErrorIs(t, err, sessions.ErrFuture, "skew %v, signed %v ahead", c.skew, c.ahead)
		assert.Empty(t, seen.Values, "skew %v, signed %v ahead: the middleware", c.skew, c.ahead)
		if assert.Len(t, rej, 1, "skew %v, signed %v ahead: rejections", c.skew, c.ahead) {
			assert.ErrorIs(t, rej[0], sessions.ErrFuture, "skew %v, signed %v ahead: rejections", c.skew, c.ahead)
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
				require.Equal(t, "alice", v.Seen.UserID, "the active session at %v", at)
				c := testkit.SetCookie(t, v.Rec.Header(), "session")
				require.NotNil(t, c, "the active session at %v: not refreshed", at)
				cookie = c.Value
				// At 100 minutes the refreshed cookie may live only 20 more
				// minutes, not the 30 of the idle timeout.
				if at == 100*time.Minute {
					assert.Equal(t, 20*60, c.MaxAge, "refresh at %v: Max-Age capped by AbsoluteTimeout", at)
				}
			}
			e.Clock.Set(sessions.TestStart.Add(2*time.Hour + time.Second))
			user, _ := step(t, e, cookie)
			assert.Empty(t, user, "2h1s after login, active")
			if mode == "cookie" {
				_, err := e.M.Decode(context.Background(), cookie)
				ee := requireExpired(t, err, "AbsoluteTimeout")
				assert.True(t, ee.Issued.Equal(sessions.TestStart), "counted from %v, want %v", ee.Issued, sessions.TestStart)
			}
		})
	}
}

// TestSecurityDurationsCookieMaxAgeAtBounds: at MaxAge 400 days, ClockSkew
// one hour and an AbsoluteTimeout of math.MaxInt64 (which saturates, never
// wraps), the cookie's Max-Age is exactly 400 days and the session reads
// back; with a MaxAge that is not whole seconds it is rounded up.
func TestSecurityDurationsCookieMaxAgeAtBounds(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		cfg  sessions.SessionConfig
		want int
	}{
		{sessions.SessionConfig{MaxAge: 400 * day, ClockSkew: time.Hour, AbsoluteTimeout: math.MaxInt64}, 400 * 24 * 3600},
		{sessions.SessionConfig{MaxAge: 400 * day, IdleTimeout: 400 * day}, 400 * 24 * 3600},
		{sessions.SessionConfig{MaxAge: 1500 * time.Millisecond}, 2},
	} {
		e := sessions.NewEnv(t, tt.cfg)
		v := e.MustVisit("", func(r *http.Request, _ *sessions.Session) {
			assert.NoError(t, sessions.Login(r.Context(), "alice"), "Login")
		})
		c := testkit.SetCookie(t, v.Rec.Header(), e.Name)
		require.NotNil(t, c, "no session cookie (headers %v)", v.Rec.Header())
		assert.Equal(t, tt.want, c.MaxAge, "%+v", tt.cfg)
		e.Clock.Set(sessions.TestStart.Add(tt.cfg.MaxAge - time.Millisecond))
		assert.Equal(t, "alice", userOf(t, e, c.Value), "read back just before MaxAge")
	}
}

// TestSecurityDurationsStoreTTLAtBounds: in store mode at MaxAge 400 days
// the record's TTL is exactly 400 days (the filestore writes its expiry
// without overflowing) and the session reads back.
func TestSecurityDurationsStoreTTLAtBounds(t *testing.T) {
	fs, err := filestore.New(t.TempDir())
	require.NoError(t, err)
	st := faultstore.New(fs)
	e := sessions.NewEnv(t, sessions.SessionConfig{Store: st, MaxAge: 400 * 24 * time.Hour, ClockSkew: time.Hour, AbsoluteTimeout: math.MaxInt64})
	v := e.MustVisit("", func(r *http.Request, _ *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), "alice"), "Login")
	})
	c := testkit.SetCookie(t, v.Rec.Header(), e.Name)
	require.NotNil(t, c, "no session cookie (headers %v)", v.Rec.Header())
	assert.Equal(t, 400*24*3600, c.MaxAge)
	// Every write: one Create, with its TTL, and no Update.
	var ttls []time.Duration
	for _, rec := range st.Created() {
		ttls = append(ttls, rec.TTL)
	}
	require.Equal(t, []time.Duration{400 * 24 * time.Hour}, ttls)
	require.Equal(t, 1, st.Count(faultstore.Create), "Create calls")
	require.Zero(t, st.Count(faultstore.Update), "Update calls")
	assert.Equal(t, "alice", userOf(t, e, c.Value))
}

// TestSecurityDurationsRevocationLifetimeAtBounds: DestroyUser's record
// lives MaxAge plus ClockSkew, exactly, at the bounds, and the revoked
// cookie is refused.
func TestSecurityDurationsRevocationLifetimeAtBounds(t *testing.T) {
	rs := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs, MaxAge: 400 * 24 * time.Hour, ClockSkew: time.Hour})
	v := issueLogin(t, e, "", "alice")
	require.NoError(t, e.M.DestroyUser(context.Background(), "alice"))
	// Every write: one Create, with its TTL, and no Update.
	var ttls []time.Duration
	for _, rec := range rs.Created() {
		ttls = append(ttls, rec.TTL)
	}
	require.Equal(t, []time.Duration{400*24*time.Hour + time.Hour}, ttls)
	require.Equal(t, 1, rs.Count(faultstore.Create), "Create calls")
	require.Zero(t, rs.Count(faultstore.Update), "Update calls")
	assert.Equal(t, "", userOf(t, e, v), "the stolen cookie still logs in")
}
