package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeleteUserFailureKeepsIndex: DeleteUser failing after it read the
// index leaves every session either deleted or still indexed, the index
// with its TTL, and a retry finishes the job.
func TestDeleteUserFailureKeepsIndex(t *testing.T) {
	shared := sharedClient(t)
	prefix := testPrefix(t, shared)
	p := newResetProxy(t, sharedAddr)
	rdb := redis.NewClient(&redis.Options{Addr: p.ln.Addr().String(), MaxRetries: -1})
	defer rdb.Close()
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	var ids []string
	for range 3 {
		id := sessionstest.NewID()
		require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), UserID: "gina", TTL: time.Hour}))
		ids = append(ids, id)
	}
	p.armed.Store(true) // the deletions (scripts) are cut off
	require.Error(t, s.DeleteUser(ctx, "gina"))
	p.armed.Store(false)
	require.NotZero(t, p.resets.Load(), "the proxy never reset a connection")
	indexed, ttl := userIndex(t, shared, prefix)
	for _, id := range ids {
		n, err := shared.Exists(ctx, prefix+"s:"+id).Result()
		require.NoError(t, err)
		assert.True(t, n == 0 || slices.Contains(indexed, id), "session %s is alive but no longer indexed", id)
	}
	assert.Greater(t, ttl, time.Duration(0), "the index lost its TTL")
	require.NoError(t, s.DeleteUser(ctx, "gina"), "retry")
	live, err := s.UserSessions(ctx, "gina")
	require.NoError(t, err)
	assert.Empty(t, live)
	for _, id := range ids {
		n, err := shared.Exists(ctx, prefix+"s:"+id).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "session %s survived the retried DeleteUser", id)
	}
}

// TestUserSessionsGetFails makes the GET of one live session fail inside
// UserSessions' pipeline: UserSessions must return the error and keep the
// index entry, so that a later DeleteUser still logs that session out.
// pipeErr covers both things Exec can report when a command fails behind
// another: nothing, or the redis.Nil of an earlier missing key.
func TestUserSessionsGetFails(t *testing.T) {
	r := startOwnRedis(t)
	for _, tc := range []struct {
		name    string
		pipeErr error
	}{
		{"exec reports nil", nil},
		{"exec reports redis.Nil", redis.Nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &failGet{pipeErr: tc.pipeErr}
			rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
			defer rdb.Close()
			rdb.AddHook(h)
			prefix := testPrefix(t, rdb)
			s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
			ctx := context.Background()
			live, gone := sessionstest.NewID(), sessionstest.NewID()
			for _, id := range []string{live, gone} {
				rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "dave", TTL: time.Hour}
				require.NoError(t, s.Create(ctx, rec))
			}
			// An index entry whose session is gone: its GET misses.
			require.NoError(t, rdb.Del(ctx, prefix+"s:"+gone).Err())
			key := prefix + "s:" + live
			h.key.Store(&key)
			ids, err := s.UserSessions(ctx, "dave")
			require.ErrorIs(t, err, errInjected, "UserSessions with a failed GET = %q", ids)
			require.NotZero(t, h.hits.Load(), "the hook never failed a GET: the test did not test anything")
			h.key.Store(nil)
			ids, err = s.UserSessions(ctx, "dave")
			require.NoError(t, err, "UserSessions after the fault")
			require.Equal(t, []string{live}, ids, "UserSessions after the fault")
			require.NoError(t, s.DeleteUser(ctx, "dave"))
			_, found, err := s.Find(ctx, live)
			require.NoError(t, err, "Find after DeleteUser")
			assert.False(t, found, "Find after DeleteUser; want the session gone")
		})
	}
}
