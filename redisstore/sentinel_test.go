package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// TestRedisSentinel runs the store through a Sentinel-managed client: its
// own redis-server as the master and a redis-sentinel process watching it.
func TestRedisSentinel(t *testing.T) {
	master := startOwnRedis(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor sessions 127.0.0.1 %d 1\nsentinel down-after-milliseconds sessions 5000\n",
		port, dir, master.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel", "--logfile", filepath.Join(dir, "sentinel.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-sentinel: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sentinelAddr := fmt.Sprintf("127.0.0.1:%d", port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinelAddr})
	defer sc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), "sessions").Result()
		if err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(master.port) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Fatalf("sentinel does not report the master (%v, %v):\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "sessions", SentinelAddrs: []string{sentinelAddr}})
	t.Cleanup(func() { fc.Close() })
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return redisstore.New(fc) })

	a := newApp(t, redisstore.New(fc), nil)
	br := newBrowser(t)
	br.mustGet(a, "/login?u=grace", "ok")
	br.mustGet(a, "/who", "grace")
	// The data is on the master Sentinel named.
	direct := redis.NewClient(&redis.Options{Addr: master.addr()})
	defer direct.Close()
	if n := direct.DBSize(context.Background()).Val(); n == 0 {
		t.Fatal("nothing written to the master")
	}
}
