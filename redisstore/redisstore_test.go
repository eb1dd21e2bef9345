package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// sharedAddr is the Redis every test run uses. A missing Redis fails the
// tests; nothing is skipped.
const sharedAddr = "127.0.0.1:6379"

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sharedClient connects to the shared Redis and fails the test if it does
// not answer.
func sharedClient(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: sharedAddr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is required (start it with .ci/provision.sh): %v", sharedAddr, err)
	}
	return rdb
}

// testPrefix returns a prefix no other test uses, and removes its keys
// when the test ends.
func testPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	prefix := "ctxsession-test:" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

func TestConformance(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return redisstore.New(rdb, redisstore.WithPrefix(prefix))
	})
}

// TestConformanceUniversalClient runs the suite through the client type
// NewUniversalClient returns for a single address.
func TestConformanceUniversalClient(t *testing.T) {
	sharedClient(t)
	u := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{sharedAddr}})
	t.Cleanup(func() { u.Close() })
	prefix := testPrefix(t, u)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return redisstore.New(u, redisstore.WithPrefix(prefix))
	})
}

func TestKeysAndTTL(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	id := sessionstest.NewID()
	rec := sessions.Record{ID: id, Data: []byte(`{"a":1}`), UserID: "alice", Expiry: time.Now().Add(90 * time.Minute)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var sessKey, userKey string
	for _, k := range keys {
		switch {
		case k == prefix+"s:"+id:
			sessKey = k
		case strings.HasPrefix(k, prefix+"u:"):
			userKey = k
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
	if sessKey == "" || userKey == "" || strings.Contains(userKey, "alice") {
		t.Fatalf("keys = %q; want the session key and a hashed user key", keys)
	}
	for _, k := range []string{sessKey, userKey} {
		d, err := rdb.PTTL(ctx, k).Result()
		if err != nil || d < 89*time.Minute || d > 90*time.Minute {
			t.Errorf("PTTL(%s) = %v, %v; want about 90m", k, d, err)
		}
	}
	// Update moves the TTL with the Expiry, and never shortens the index's.
	rec.Expiry = time.Now().Add(10 * time.Minute)
	if found, err := s.Update(ctx, rec); !found || err != nil {
		t.Fatal(found, err)
	}
	if d := rdb.PTTL(ctx, sessKey).Val(); d > 10*time.Minute || d < 9*time.Minute {
		t.Errorf("session PTTL after Update = %v; want about 10m", d)
	}
	if d := rdb.PTTL(ctx, userKey).Val(); d < 89*time.Minute {
		t.Errorf("index PTTL after a shorter Update = %v; want still about 90m", d)
	}
}

func TestCorruptValue(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	id := sessionstest.NewID()
	rdb.Set(context.Background(), prefix+"s:"+id, "no length prefix", time.Minute)
	if _, _, err := s.Find(context.Background(), id); !errors.Is(err, redisstore.ErrCorrupt) {
		t.Fatalf("Find = %v; want ErrCorrupt", err)
	}
}

func TestInvalidIDs(t *testing.T) {
	rdb := sharedClient(t)
	s := redisstore.New(rdb, redisstore.WithPrefix(testPrefix(t, rdb)))
	for _, id := range []string{"", strings.Repeat("a", redisstore.MaxIDLength+1)} {
		err := s.Create(context.Background(), sessions.Record{ID: id, Expiry: time.Now().Add(time.Hour)})
		if !errors.Is(err, redisstore.ErrInvalidID) {
			t.Errorf("Create(%d bytes) = %v; want ErrInvalidID", len(id), err)
		}
	}
}

// ownRedis is a redis-server this test starts on its own port, so that it
// can stop, restart and pause it without disturbing the shared one.
type ownRedis struct {
	t     *testing.T
	port  int
	dir   string
	extra []string // more redis-server arguments
	cmd   *exec.Cmd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startOwnRedis(t *testing.T, extra ...string) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is required: %v", err)
	}
	r := &ownRedis{t: t, port: freePort(t), dir: t.TempDir(), extra: extra}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server with an append-only file synced on every write,
// so a restart brings back every acknowledged write.
func (r *ownRedis) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(r.dir, "redis.log")}, r.extra...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("starting redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server on %s did not come up:\n%s", r.addr(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates the server (it flushes its append-only file on
// SIGTERM) and waits for it to exit.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

func TestOwnRedisStoreBasics(t *testing.T) {
	r := startOwnRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rdb.Close()
	s := redisstore.New(rdb)
	id := sessionstest.NewID()
	if err := s.Create(context.Background(), sessions.Record{ID: id, Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(context.Background(), redisstore.DefaultPrefix+"s:"+id).Val(); n != 1 {
		t.Fatalf("key with DefaultPrefix exists = %d; want 1", n)
	}
	// A server that has not seen the index script yet (new, restarted,
	// or after SCRIPT FLUSH) still gets the index written.
	ctx := context.Background()
	for i := range 3 {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		uid := sessionstest.NewID()
		if err := s.Create(ctx, sessions.Record{ID: uid, Data: []byte("u"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatalf("Create after SCRIPT FLUSH: %v", err)
		}
		rdb.ScriptFlush(ctx)
		if found, err := s.Update(ctx, sessions.Record{ID: uid, Data: []byte("u2"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}); !found || err != nil {
			t.Fatalf("Update after SCRIPT FLUSH = %v, %v", found, err)
		}
		if ids, err := s.UserSessions(ctx, "erin"); err != nil || len(ids) != i+1 {
			t.Fatalf("UserSessions = %d, %v; want %d", len(ids), err, i+1)
		}
	}
}
