package memstore

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/sessionstest"
)

func TestConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := New(WithCleanupInterval(10 * time.Millisecond))
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
		r := sessions.Record{ID: sessionstest.NewID(), Data: []byte{byte(i)}, Expiry: clk.Now().Add(ttl), UserID: "u"}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Cleanup(); got != 0 {
		t.Fatalf("Cleanup removed %d; want 0", got)
	}
	clk.Add(90 * time.Minute)
	ids, _ := s.UserSessions(ctx, "u")
	if len(ids) != 1 {
		t.Fatalf("UserSessions after 90 min = %d ids; want 1", len(ids))
	}
	if s.Len() != 3 {
		t.Fatalf("Len before Cleanup = %d; want 3 (expired ones hidden, not removed)", s.Len())
	}
	if got := s.Cleanup(); got != 2 {
		t.Fatalf("Cleanup removed %d; want 2", got)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d; want 1", s.Len())
	}
}

func TestBackgroundCleanup(t *testing.T) {
	s := New(WithCleanupInterval(5 * time.Millisecond))
	defer s.Close()
	r := sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), Expiry: time.Now().Add(20 * time.Millisecond)}
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// Wait for the goroutine to remove it; this checks that it runs, not
	// how fast.
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("background cleanup never removed the expired record")
		}
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
	if got := goroutines(); got < before+20 {
		t.Fatalf("goroutines = %d with 20 stores; want at least %d", got, before+20)
	}
	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s.Close() // twice is fine
	}
	if got := goroutines(); got > before {
		t.Fatalf("goroutines = %d after Close; want %d (leak)", got, before)
	}
	// A closed store still works, without background cleanup.
	r := sessions.Record{ID: "k", Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}
	if err := stores[0].Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
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
		if time.Now().After(deadline) {
			t.Fatalf("goroutines = %d; want %d: unreachable stores keep their cleanup goroutines", goroutines(), before)
		}
	}
}

func TestLimit(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := New(WithLimit(3), WithClock(clk.Now), WithCleanupInterval(0))
	ctx := context.Background()
	mk := func(ttl time.Duration) (string, error) {
		id := sessionstest.NewID()
		return id, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), Expiry: clk.Now().Add(ttl)})
	}
	short, _ := mk(time.Minute)
	var ids []string
	for range 2 {
		id, err := mk(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := mk(time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("Create beyond the limit = %v; want ErrFull", err)
	}
	// Updates and deletes still work when full.
	if found, err := s.Update(ctx, sessions.Record{ID: ids[0], Data: []byte("y"), Expiry: clk.Now().Add(time.Hour)}); !found || err != nil {
		t.Fatalf("Update when full = %v, %v", found, err)
	}
	// An expired record makes room.
	clk.Add(2 * time.Minute)
	if _, err := mk(time.Hour); err != nil {
		t.Fatalf("Create after a record expired = %v; want room", err)
	}
	if _, found, _ := s.Find(ctx, short); found {
		t.Fatal("expired record still found")
	}
	if err := s.Delete(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := mk(time.Hour); err != nil {
		t.Fatalf("Create after Delete = %v", err)
	}
}

// TestUserIndex walks one record through every way Create and Update can
// change its owner and checks the user index after each step: the record
// is under its owner only, and no empty set is left behind.
func TestUserIndex(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New(WithClock(func() time.Time { return now }), WithCleanupInterval(0))
	ctx := context.Background()
	rec := func(user string) sessions.Record {
		return sessions.Record{ID: "id1", Data: []byte("x"), UserID: user, Expiry: now.Add(time.Hour)}
	}
	check := func(step, want string) {
		t.Helper()
		var got []string
		for u, set := range s.users {
			for id := range set {
				got = append(got, u+"/"+id)
			}
			if len(set) == 0 {
				t.Errorf("%s: empty index set left for %q", step, u)
			}
		}
		slices.Sort(got)
		var wantList []string
		if want != "" {
			wantList = []string{want + "/id1"}
		}
		if !slices.Equal(got, wantList) {
			t.Errorf("%s: index = %q; want %q", step, got, wantList)
		}
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
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
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
			if err != nil || len(ids) != want {
				t.Errorf("%s: UserSessions(%s) = %q, %v; want %d ids", st.name, u, ids, err, want)
			}
		}
	}
	if len(s.recs) != 0 {
		t.Errorf("records left = %v; want none", slices.Collect(maps.Keys(s.recs)))
	}
}
