package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/redis/go-redis/v9"
)

// openRedis connects to the Redis server of a redis:// or rediss:// URL
// (redis://[user:password@]host:port/db) and checks that it answers.
func openRedis(ctx context.Context, url string) (sessions.Store, string, func(), error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, "", nil, err
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, "", nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	desc := fmt.Sprintf("in Redis at %s, database %d", opt.Addr, opt.DB)
	return redisstore.New(rdb), desc, func() { rdb.Close() }, nil
}
