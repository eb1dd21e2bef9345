package redisstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

var errInjected = errors.New("injected: i/o timeout")

// failGet is a go-redis hook that, while key is set, gives the GET of that
// key errInjected after the server has answered it, as a timeout on that
// one reply would. pipeErr is what a pipeline containing it reports.
type failGet struct {
	key     atomic.Pointer[string]
	pipeErr error
	hits    atomic.Int64
}

func (h *failGet) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failGet) hit(cmd redis.Cmder) bool {
	k := h.key.Load()
	args := cmd.Args()
	if k == nil || cmd.Name() != "get" || len(args) != 2 || args[1] != *k {
		return false
	}
	cmd.SetErr(errInjected)
	h.hits.Add(1)
	return true
}

func (h *failGet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if h.hit(cmd) {
			return errInjected
		}
		return err
	}
}

func (h *failGet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if h.hit(c) {
				return h.pipeErr
			}
		}
		return err
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
				rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "dave", Expiry: time.Now().Add(time.Hour)}
				if err := s.Create(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			// An index entry whose session is gone: its GET misses.
			if err := rdb.Del(ctx, prefix+"s:"+gone).Err(); err != nil {
				t.Fatal(err)
			}
			key := prefix + "s:" + live
			h.key.Store(&key)
			ids, err := s.UserSessions(ctx, "dave")
			if !errors.Is(err, errInjected) {
				t.Fatalf("UserSessions with a failed GET = %q, %v; want errInjected", ids, err)
			}
			if h.hits.Load() == 0 {
				t.Fatal("the hook never failed a GET: the test did not test anything")
			}
			h.key.Store(nil)
			if ids, err := s.UserSessions(ctx, "dave"); err != nil || len(ids) != 1 || ids[0] != live {
				t.Fatalf("UserSessions after the fault = %q, %v; want [%s]", ids, err, live)
			}
			if err := s.DeleteUser(ctx, "dave"); err != nil {
				t.Fatal(err)
			}
			if _, found, err := s.Find(ctx, live); found || err != nil {
				t.Fatalf("Find after DeleteUser = %v, %v; want the session gone", found, err)
			}
		})
	}
}

// TestCreateExistsGetFails: a Create that finds its id taken reads the
// existing session to decide whether to take back its index entry. When
// that GET fails, the entry stays: it may be the existing session's own.
func TestCreateExistsGetFails(t *testing.T) {
	r := startOwnRedis(t)
	h := &failGet{}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rdb.Close()
	rdb.AddHook(h)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	id := sessionstest.NewID()
	rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	key := prefix + "s:" + id
	h.key.Store(&key)
	if err := s.Create(ctx, rec); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("second Create = %v; want ErrExists", err)
	}
	if h.hits.Load() == 0 {
		t.Fatal("the hook never failed a GET: the test did not test anything")
	}
	h.key.Store(nil)
	if err := s.DeleteUser(ctx, "erin"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Find(ctx, id); found || err != nil {
		t.Fatalf("Find after DeleteUser = %v, %v; want the session gone", found, err)
	}
}
