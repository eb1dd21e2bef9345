package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/redis/go-redis/v9"
)

// redisAddr is the Redis server the redisstore rows use; CI provisions it.
const redisAddr = "127.0.0.1:6379"

// storeImpls returns this module's store modes under test: the cookie
// carries a signed session id and the store the JSON payload.
func storeImpls(tb testing.TB) []impl {
	mem := memstore.New(memstore.WithCleanupInterval(time.Hour))
	tb.Cleanup(func() { mem.Close() })
	return []impl{
		ctxImpl(tb, "ctxsession-memstore", sessions.SessionConfig{SecretKey: secret, Store: mem}),
		ctxImpl(tb, "ctxsession-redisstore", sessions.SessionConfig{SecretKey: secret, Store: redisStore(tb)}),
	}
}

// redisStore connects to the real Redis under a prefix of its own, and
// removes every key under it when tb ends.
func redisStore(tb testing.TB) sessions.Store {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("Redis at %s: %v (the redisstore benchmarks need it)", redisAddr, err)
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "ctxsession-bench:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				rdb.Del(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("cleaning up %s* in Redis: %v", prefix, err)
		}
		rdb.Close()
	})
	return redisstore.New(rdb, redisstore.WithPrefix(prefix))
}
