package memstore

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

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
