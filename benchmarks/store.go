package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/memstore"
	"github.com/ctxsession/sessions/redisstore"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisAddr is the Redis server the Redis rows use; CI provisions it.
const DefaultRedisAddr = "127.0.0.1:6379"

// An Env holds what the implementations of one run share: where the
// servers are, how to dial them, and what to release at the end.
type Env struct {
	// RedisAddr is the Redis server's address (default DefaultRedisAddr).
	RedisAddr string
	// Dial, when set, opens the stores' connections to their servers, so
	// that a wrapper (CountingDialer) can count their round trips. Nil: a
	// plain net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	prefix  string // of every key this run writes in a shared server
	closers []func()
}

// NewEnv returns an Env for the default servers.
func NewEnv() *Env {
	var b [6]byte
	rand.Read(b[:])
	return &Env{RedisAddr: DefaultRedisAddr, prefix: "ctxsession-bench:" + hex.EncodeToString(b[:]) + ":"}
}

// Defer registers f to run at Close, before what was registered earlier.
func (e *Env) Defer(f func()) { e.closers = append(e.closers, f) }

// Close releases everything the run opened.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// TempDir returns a new directory, removed at Close.
func (e *Env) TempDir() (string, error) {
	dir, err := os.MkdirTemp("", "ctxsession-bench-")
	if err != nil {
		return "", err
	}
	e.Defer(func() { os.RemoveAll(dir) })
	return dir, nil
}

// DialContext dials through Dial when it is set, else a plain net.Dialer.
func (e *Env) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if e.Dial != nil {
		return e.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// An OpenStore is a store opened for a run.
type OpenStore struct {
	Store sessions.Store
	// Stats, when set, returns the server's own counters of the commands
	// it ran, by command (Redis: INFO commandstats), cumulative, so that
	// the difference around a batch of requests is what they cost.
	Stats func(ctx context.Context) (map[string]int64, error)
}

// A StoreCtor opens one of this module's server-side stores.
type StoreCtor struct {
	Name string
	Open func(env *Env) (OpenStore, error)
}

// Stores are this module's server-side stores, each run through the
// middleware as ctxsession-<Name> by every benchmark and by cmd/roundtrips.
// The stores with a server dial through env.Dial, so that cmd/roundtrips
// counts their round trips on the wire. The SQL stores are in package
// sqlbench, for cmd/roundtrips only (its doc says why).
var Stores = []StoreCtor{
	{Name: "memstore", Open: func(env *Env) (OpenStore, error) {
		mem := memstore.New(memstore.WithCleanupInterval(time.Hour))
		env.Defer(func() { mem.Close() })
		return OpenStore{Store: mem}, nil
	}},
	{Name: "filestore", Open: func(env *Env) (OpenStore, error) {
		dir, err := env.TempDir()
		if err != nil {
			return OpenStore{}, err
		}
		fs, err := filestore.New(dir)
		return OpenStore{Store: fs}, err
	}},
	{Name: "redisstore", Open: openRedisstore},
}

// redisClient connects to env's Redis through env.Dial, and removes every
// key under prefix at Close.
func redisClient(env *Env, prefix string) (*redis.Client, error) {
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, ContextTimeoutEnabled: true, Dialer: env.DialContext})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w (the Redis rows need it)", env.RedisAddr, err)
	}
	env.Defer(func() {
		deleteKeys(rdb, prefix)
		rdb.Close()
	})
	return rdb, nil
}

// deleteKeys removes every key under prefix.
func deleteKeys(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
	if err := iter.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "cleaning up %s* in Redis: %v\n", prefix, err)
	}
}

func openRedisstore(env *Env) (OpenStore, error) {
	prefix := env.prefix + "ctx:"
	rdb, err := redisClient(env, prefix)
	if err != nil {
		return OpenStore{}, err
	}
	// The counters are read on a connection of their own, which a counting
	// Dial does not see.
	admin := redis.NewClient(&redis.Options{Addr: env.RedisAddr, ContextTimeoutEnabled: true})
	env.Defer(func() { admin.Close() })
	return OpenStore{
		Store: redisstore.New(rdb, redisstore.WithPrefix(prefix)),
		Stats: func(ctx context.Context) (map[string]int64, error) { return CommandStats(ctx, admin) },
	}, nil
}

// CommandStats returns Redis's INFO commandstats: calls by command (commands
// a script runs count under their own names as well as under EVALSHA).
func CommandStats(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	return parseCommandStats(info)
}

// parseCommandStats reads lines such as
// "cmdstat_get:calls=2,usec=15,usec_per_call=7.50,rejected_calls=0,failed_calls=0".
func parseCommandStats(info string) (map[string]int64, error) {
	out := map[string]int64{}
	for line := range strings.Lines(info) {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		v, ok := strings.CutPrefix(calls, "calls=")
		if !ok {
			return nil, fmt.Errorf("commandstats: bad line %q", line)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("commandstats: bad line %q", line)
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out, nil
}

// scsRedis returns scs's redisstore on env's Redis (redigo, a pool of
// connections), under a prefix removed at Close.
func scsRedis(env *Env) (*scsredis.RedisStore, error) {
	prefix := env.prefix + "scs:"
	if _, err := redisClient(env, prefix); err != nil { // checks the server, cleans up
		return nil, err
	}
	pool := &redigo.Pool{
		MaxIdle:     64,
		IdleTimeout: time.Minute,
		Dial: func() (redigo.Conn, error) {
			return redigo.Dial("tcp", env.RedisAddr, redigo.DialNetDial(func(network, addr string) (net.Conn, error) {
				return env.DialContext(context.Background(), network, addr)
			}))
		},
	}
	env.Defer(func() { pool.Close() })
	c := pool.Get()
	_, err := c.Do("PING")
	c.Close()
	if err != nil {
		return nil, errors.Join(errors.New("scs redisstore: ping"), err)
	}
	return scsredis.NewWithPrefix(pool, prefix), nil
}

// StoreByName returns the constructor of the store named name.
func StoreByName(name string) (StoreCtor, error) {
	for _, s := range Stores {
		if s.Name == name {
			return s, nil
		}
	}
	var names []string
	for _, s := range Stores {
		names = append(names, s.Name)
	}
	return StoreCtor{}, fmt.Errorf("unknown store %q (want one of %s)", name, strings.Join(names, ", "))
}
