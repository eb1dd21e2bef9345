package redisstore_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// TestRedisCluster builds a three-node Redis Cluster from its own
// redis-server processes and runs the conformance suite and a two-instance
// middleware check through a ClusterClient.
func TestRedisCluster(t *testing.T) {
	var addrs []string
	for range 3 {
		n := startOwnRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--appendonly", "no", "--cluster-node-timeout", "2000")
		addrs = append(addrs, n.addr())
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, _ := c.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster never became ready on %s:\n%s", a, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc.Close() })
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return redisstore.New(cc) })

	// Two application instances, each with its own cluster client.
	cc2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc2.Close() })
	a := newApp(t, redisstore.New(cc), nil)
	b := newApp(t, redisstore.New(cc2), nil)
	for range 20 {
		br := newBrowser(t)
		br.mustGet(a, "/login?u=frank", "ok")
		br.mustGet(b, "/who", "frank")
	}
	if ids, err := b.m.UserSessions(ctx, "frank"); err != nil || len(ids) != 20 {
		t.Fatalf("UserSessions = %d, %v; want 20", len(ids), err)
	}
	// The sessions really are spread over the nodes.
	used := 0
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		if n, _ := c.DBSize(ctx).Result(); n > 0 {
			used++
		}
		c.Close()
	}
	if used < 2 {
		t.Fatalf("keys live on %d node(s); want them spread over the cluster", used)
	}
	if err := a.m.DestroyUser(ctx, "frank"); err != nil {
		t.Fatal(err)
	}
	if ids, err := b.m.UserSessions(ctx, "frank"); err != nil || len(ids) != 0 {
		t.Fatalf("UserSessions after DestroyUser = %d, %v; want 0", len(ids), err)
	}
}
