package memstore

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := New(WithCleanupInterval(10 * time.Millisecond))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestMerge: overlapping requests through the middleware lose nothing.
func TestMerge(t *testing.T) {
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		s := New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestConformanceNoCleanup(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return New(WithCleanupInterval(0))
	})
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestCleanupRemovesExpired(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := New(WithClock(clk.Now), WithCleanupInterval(0))
	ctx := context.Background()
	for i, ttl := range []time.Duration{time.Minute, time.Hour, 2 * time.Hour} {
		r := sessions.Record{ID: sessionstest.NewID(), Data: []byte{byte(i)}, TTL: ttl, UserID: "u"}
		require.NoError(t, s.Create(ctx, r))
	}
	require.Equal(t, 0, s.Cleanup(), "Cleanup before anything expired")
	clk.Add(90 * time.Minute)
	ids, err := s.UserSessions(ctx, "u")
	require.NoError(t, err)
	assert.Len(t, ids, 1, "UserSessions after 90 min")
	assert.Equal(t, 3, s.Len(), "Len before Cleanup (expired ones hidden, not removed)")
	assert.Equal(t, 2, s.Cleanup(), "Cleanup after 90 min")
	assert.Equal(t, 1, s.Len(), "Len after Cleanup")
}

func TestBackgroundCleanup(t *testing.T) {
	s := New(WithCleanupInterval(5 * time.Millisecond))
	defer s.Close()
	r := sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: 20 * time.Millisecond}
	require.NoError(t, s.Create(context.Background(), r))
	// Wait for the goroutine to remove it; this checks that it runs, not
	// how fast.
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 {
		require.False(t, time.Now().After(deadline), "background cleanup never removed the expired record")
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutines counts running goroutines once the count has settled.
func goroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			return n
		} else {
			n = m
		}
	}
	return n
}

func TestCloseStopsGoroutine(t *testing.T) {
	before := goroutines()
	stores := make([]*Store, 20)
	for i := range stores {
		stores[i] = New(WithCleanupInterval(time.Millisecond))
	}
	require.GreaterOrEqual(t, goroutines(), before+20, "goroutines with 20 stores")
	for _, s := range stores {
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "second Close")
	}
	assert.LessOrEqual(t, goroutines(), before, "goroutines after Close (leak)")
	// A closed store still works, without background cleanup.
	r := sessions.Record{ID: "k", Data: []byte("v"), TTL: time.Hour}
	require.NoError(t, stores[0].Create(context.Background(), r))
}

func TestUnreachableStoreStopsGoroutine(t *testing.T) {
	before := goroutines()
	for range 20 {
		New(WithCleanupInterval(time.Millisecond))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if goroutines() <= before {
			return
		}
		require.False(t, time.Now().After(deadline),
			"goroutines = %d; want %d: unreachable stores keep their cleanup goroutines", goroutines(), before)
	}
}

// TestLimit: a full store evicts anonymous sessions, soonest-expiring
// first, so a flood of anonymous visitors never makes a Login fail; only a
// store full of logged-in sessions refuses (ErrFull).
func TestLimit(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := New(WithLimit(3), WithClock(clk.Now), WithCleanupInterval(0))
	ctx := context.Background()
	mk := func(user string, ttl time.Duration) (string, error) {
		id := sessionstest.NewID()
		return id, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), UserID: user, TTL: ttl})
	}
	found := func(id string) bool {
		_, ok, err := s.Find(ctx, id)
		require.NoError(t, err)
		return ok
	}
	alice, err := mk("alice", time.Hour)
	require.NoError(t, err)
	// A flood of anonymous sessions fills the store and pushes out the
	// anonymous ones that expire soonest.
	var anon []string
	for i := range 50 {
		id, err := mk("", time.Duration(100+i)*time.Minute)
		require.NoError(t, err, "anonymous Create %d", i)
		anon = append(anon, id)
	}
	assert.Equal(t, 3, s.Len())
	assert.True(t, found(alice), "a logged-in session was evicted")
	assert.True(t, found(anon[49]) && found(anon[48]), "the latest-expiring anonymous sessions stay")
	assert.False(t, found(anon[0]), "the soonest-expiring anonymous session stays")
	// A Login succeeds, evicting an anonymous session.
	bob, err := mk("bob", time.Hour)
	require.NoError(t, err, "Create of a logged-in session in a store full of anonymous ones")
	assert.True(t, found(bob) && found(alice) && found(anon[49]) && !found(anon[48]))
	carol, err := mk("carol", time.Hour)
	require.NoError(t, err)
	assert.True(t, found(carol) && !found(anon[49]))
	// Full of logged-in sessions: nothing to evict.
	_, err = mk("dave", time.Hour)
	require.ErrorIs(t, err, ErrFull, "Create beyond the limit, no anonymous session left")
	_, err = mk("", time.Hour)
	require.ErrorIs(t, err, ErrFull, "anonymous Create beyond the limit")
	// Updates and deletes still work when full.
	ok, err := s.Update(ctx, sessions.Record{ID: alice, Data: []byte("y"), UserID: "alice", TTL: time.Hour, Version: 1})
	require.NoError(t, err, "Update when full")
	require.True(t, ok, "Update when full")
	// An expired record makes room.
	clk.Add(2 * time.Hour)
	_, err = mk("dave", time.Hour)
	require.NoError(t, err, "Create after a record expired")
	assert.False(t, found(bob), "expired record still found")
}

// TestDefaultLimit: New has a record limit unless told otherwise.
func TestDefaultLimit(t *testing.T) {
	assert.Equal(t, DefaultLimit, New(WithCleanupInterval(0)).limit)
	assert.Zero(t, New(WithCleanupInterval(0), WithLimit(0)).limit)
}

// TestUserIndex walks one record through every way Create and Update can
// change its owner and checks the user index after each step: the record
// is under its owner only, and no empty set is left behind.
func TestUserIndex(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New(WithClock(func() time.Time { return now }), WithCleanupInterval(0))
	ctx := context.Background()
	rec := func(user string) sessions.Record {
		r := sessions.Record{ID: "id1", Data: []byte("x"), UserID: user, TTL: time.Hour}
		if cur, found, _ := s.Find(ctx, r.ID); found {
			r.Version = cur.Version // an Update of what is there
		}
		return r
	}
	check := func(step, want string) {
		t.Helper()
		var got []string
		for u, set := range s.users {
			for id := range set {
				got = append(got, u+"/"+id)
			}
			assert.NotEmpty(t, set, "%s: empty index set left for %q", step, u)
		}
		slices.Sort(got)
		var wantList []string
		if want != "" {
			wantList = []string{want + "/id1"}
		}
		assert.Equal(t, wantList, got, "%s: index", step)
	}
	steps := []struct {
		name   string
		do     func() error
		owner  string
		others []string // users that must have no sessions
	}{
		{"create anonymous", func() error { return s.Create(ctx, rec("")) }, "", nil},
		{"update to alice", func() error { _, err := s.Update(ctx, rec("alice")); return err }, "alice", nil},
		{"update alice again", func() error { _, err := s.Update(ctx, rec("alice")); return err }, "alice", nil},
		{"update to bob", func() error { _, err := s.Update(ctx, rec("bob")); return err }, "bob", []string{"alice"}},
		{"update to anonymous", func() error { _, err := s.Update(ctx, rec("")); return err }, "", []string{"alice", "bob"}},
		{"delete", func() error { return s.Delete(ctx, "id1") }, "", []string{"alice", "bob"}},
		{"create as carol", func() error { return s.Create(ctx, rec("carol")) }, "carol", []string{"alice", "bob"}},
		{"delete user carol", func() error { return s.DeleteUser(ctx, "carol") }, "", []string{"carol"}},
	}
	for _, st := range steps {
		require.NoError(t, st.do(), st.name)
		check(st.name, st.owner)
		for _, u := range append(st.others, st.owner) {
			if u == "" {
				continue
			}
			ids, err := s.UserSessions(ctx, u)
			want := 0
			if u == st.owner {
				want = 1
			}
			if assert.NoError(t, err, "%s: UserSessions(%s)", st.name, u) {
				assert.Len(t, ids, want, "%s: UserSessions(%s)", st.name, u)
			}
		}
	}
	assert.Empty(t, s.recs, "records left")
}
