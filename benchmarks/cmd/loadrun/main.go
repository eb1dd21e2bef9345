// Command loadrun measures the session middleware under load with a
// server-side store: many concurrent HTTP clients over loopback, tens of
// thousands of sessions, reads and writes mixed. It prints latency
// percentiles, throughput and memory.
//
//	go run ./cmd/loadrun -store mem
//	go run ./cmd/loadrun -store redis -redis 127.0.0.1:6379
//
// With -store redis it writes under a random key prefix and deletes its
// keys at the end.
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/redis/go-redis/v9"
)

func main() {
	storeKind := flag.String("store", "mem", "store: mem, redis or cookie (no store, for comparison)")
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address for -store redis")
	clients := flag.Int("clients", 200, "concurrent clients")
	nSessions := flag.Int("sessions", 50_000, "sessions created in the first phase")
	requests := flag.Int("requests", 200_000, "requests in the mixed phase")
	writePct := flag.Int("writes", 20, "percentage of writes in the mixed phase")
	users := flag.Int("users", 5_000, "distinct user ids the sessions log in as")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	var store sessions.Store
	var rdb *redis.Client
	prefix := ""
	switch *storeKind {
	case "mem":
		ms := memstore.New()
		defer ms.Close()
		store = ms
	case "redis":
		rdb = redis.NewClient(&redis.Options{Addr: *addr, PoolSize: *clients, ContextTimeoutEnabled: true})
		defer rdb.Close()
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			log.Fatalf("redis %s: %v", *addr, err)
		}
		var b [6]byte
		crand.Read(b[:])
		prefix = "ctxsession-loadrun:" + hex.EncodeToString(b[:]) + ":"
		store = redisstore.New(rdb, redisstore.WithPrefix(prefix))
		defer cleanupRedis(rdb, prefix)
	case "cookie":
	default:
		log.Fatalf("unknown -store %q", *storeKind)
	}
	redisBefore := redisMemory(rdb)

	mw, err := sessions.New(sessions.SessionConfig{
		SecretKey: "loadrun-secret-key-0123456789abcdefghijklmnop",
		Store:     store,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), r.URL.Query().Get("u")); err != nil {
			return
		}
		s, _ := sessions.GetSession(r.Context())
		s.Set("cart", []string{"apple", "pear"})
		s.Set("n", 0)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		n, _ := sessions.GetAs[int](s, "n")
		io.WriteString(w, strconv.Itoa(n))
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		n, _ := sessions.GetAs[int](s, "n")
		s.Set("n", n+1)
		io.WriteString(w, strconv.Itoa(n+1))
	})
	srv := httptest.NewServer(mw.Handler(mux))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: *clients, MaxIdleConnsPerHost: *clients}}

	fmt.Printf("store=%s clients=%d sessions=%d requests=%d writes=%d%% GOMAXPROCS=%d\n",
		*storeKind, *clients, *nSessions, *requests, *writePct, runtime.GOMAXPROCS(0))

	// Phase 1: log in nSessions times.
	cookies := make([]string, *nSessions)
	lat, dur, errs := run(*clients, *nSessions, func(i int, _ *rand.Rand) error {
		resp, err := client.Get(srv.URL + "/login?u=user" + strconv.Itoa(i%*users))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "session" {
				cookies[i] = c.Value
			}
		}
		if resp.StatusCode != 200 || cookies[i] == "" {
			return fmt.Errorf("login: status %d", resp.StatusCode)
		}
		return nil
	})
	report("login (create)", lat, dur, errs)

	// Phase 2: mixed reads and writes on random sessions.
	lat, dur, errs = run(*clients, *requests, func(i int, rng *rand.Rand) error {
		path := "/read"
		if rng.IntN(100) < *writePct {
			path = "/write"
		}
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Cookie", "session="+cookies[rng.IntN(len(cookies))])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return nil
	})
	report(fmt.Sprintf("mixed (%d%% writes)", *writePct), lat, dur, errs)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("memory: Go heap in use %.1f MiB, process RSS %s", float64(ms.HeapInuse)/(1<<20), rss())
	if rdb != nil {
		fmt.Printf(", Redis used_memory +%.1f MiB", float64(redisMemory(rdb)-redisBefore)/(1<<20))
	}
	fmt.Println()
	if m, ok := store.(*memstore.Store); ok {
		fmt.Printf("records: %d\n", m.Len())
	}
}

// run calls fn n times from c goroutines and returns each call's latency,
// the wall time and the number of errors.
func run(c, n int, fn func(i int, rng *rand.Rand) error) ([]time.Duration, time.Duration, int) {
	lat := make([]time.Duration, n)
	var mu sync.Mutex
	errs := 0
	var firstErr error
	next := make(chan int, c)
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range next {
				t := time.Now()
				err := fn(i, rng)
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		log.Printf("first error: %v", firstErr)
	}
	return lat, time.Since(start), errs
}

func report(name string, lat []time.Duration, wall time.Duration, errs int) {
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(time.Microsecond) }
	fmt.Printf("%-22s n=%d errors=%d  %.0f req/s  p50=%v p90=%v p99=%v max=%v\n",
		name, len(lat), errs, float64(len(lat))/wall.Seconds(), p(0.50), p(0.90), p(0.99), lat[len(lat)-1].Round(time.Microsecond))
}

func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func redisMemory(rdb *redis.Client) int64 {
	if rdb == nil {
		return 0
	}
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func cleanupRedis(rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}
