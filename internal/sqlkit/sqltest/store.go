package sqltest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/sessionstest"
)

// SharedDatabase checks that two stores on one table, each with
// connections of its own, see each other's writes: what a creates b finds
// and updates, a's stale update then conflicts, and b deletes a's user.
func SharedDatabase(t *testing.T, a, b Store) {
	ctx := ctxT(t)
	id := sessionstest.NewID()
	require.NoError(t, a.Create(ctx, sessions.Record{ID: id, Data: []byte("from a"), TTL: time.Hour, UserID: "alice"}))

	got, found, err := b.Find(ctx, id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, sessions.Record{ID: id, Data: []byte("from a"), UserID: "alice", Version: 1}, got)

	got.Data, got.TTL = []byte("from b"), time.Hour
	found, err = b.Update(ctx, got)
	require.NoError(t, err)
	require.True(t, found)
	_, err = a.Update(ctx, sessions.Record{ID: id, Data: []byte("stale"), TTL: time.Hour, Version: 1})
	require.ErrorIs(t, err, sessions.ErrConflict)
	got, _, err = a.Find(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "from b", string(got.Data))
	assert.Equal(t, uint64(2), got.Version)

	ids, err := a.UserSessions(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids)
	require.NoError(t, b.DeleteUser(ctx, "alice"))
	_, found, err = a.Find(ctx, id)
	require.NoError(t, err)
	assert.False(t, found)
}

// DestroyUser ends every session of user alice through the middleware on
// s, and checks that only hers end, not those of user bob.
func DestroyUser(t *testing.T, s Store, alice, bob string) {
	mw, err := sessions.New(sessions.SessionConfig{SecretKey: "sql-store-test-secret-0123456789abcdefXYZ", Store: s})
	require.NoError(t, err)
	srv := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.URL.Query().Get("login"); u != "" {
			require.NoError(t, sessions.Login(r.Context(), u))
			sess, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			sess.Set("n", 1)
		}
		u, _ := sessions.UserID(r.Context())
		w.Write([]byte(u))
	})))
	t.Cleanup(srv.Close)
	login := func(user string) *http.Cookie {
		resp, err := http.Get(srv.URL + "/?login=" + user)
		require.NoError(t, err)
		resp.Body.Close()
		require.Len(t, resp.Cookies(), 1)
		return resp.Cookies()[0]
	}
	whoami := func(c *http.Cookie) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.AddCookie(c)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	a1, a2, b1 := login(alice), login(alice), login(bob)
	require.Equal(t, alice, whoami(a1))
	ids, err := mw.UserSessions(ctxT(t), alice)
	require.NoError(t, err)
	assert.Len(t, ids, 2)

	require.NoError(t, mw.DestroyUser(ctxT(t), alice))
	assert.Equal(t, "", whoami(a1))
	assert.Equal(t, "", whoami(a2))
	assert.Equal(t, bob, whoami(b1))
	ids, err = mw.UserSessions(ctxT(t), alice)
	require.NoError(t, err)
	assert.Empty(t, ids)
}

// CountPerCall pins how many units (round trips, statements: what names
// them in the messages) each method of s costs, as count counts them. With
// warmUp, a first pass runs every method before the counted one, so that
// the driver has prepared every statement on its connection.
func CountPerCall(t *testing.T, s Store, count func() int64, what string, warmUp bool) {
	ctx := ctxT(t)
	id, user := sessionstest.NewID(), "rt-user"
	rec := sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour, UserID: user}
	ops := []struct {
		name string
		want int64
		fn   func() error
	}{
		{"Create", 1, func() error { return s.Create(ctx, rec) }},
		{"Find", 1, func() error { _, _, err := s.Find(ctx, id); return err }},
		{"Update", 1, func() error { rec.Version++; _, err := s.Update(ctx, rec); return err }},
		{"UpdateConflict", 2, func() error {
			_, err := s.Update(ctx, sessions.Record{ID: id, Data: []byte("y"), TTL: time.Hour, Version: 99})
			if !errors.Is(err, sessions.ErrConflict) {
				return fmt.Errorf("want a conflict, got %v", err)
			}
			return nil
		}},
		{"UserSessions", 1, func() error { _, err := s.UserSessions(ctx, user); return err }},
		{"Delete", 1, func() error { return s.Delete(ctx, id) }},
		{"UpdateGone", 2, func() error { _, err := s.Update(ctx, rec); return err }},
		{"DeleteUser", 1, func() error { return s.DeleteUser(ctx, user) }},
	}
	if warmUp {
		for _, op := range ops {
			require.NoError(t, op.fn(), op.name)
		}
		id = sessionstest.NewID()
		rec.ID, rec.Version = id, 0
	}
	for _, op := range ops {
		before := count()
		require.NoError(t, op.fn(), op.name)
		assert.Equal(t, op.want, count()-before, "%s of %s", what, op.name)
	}
}
