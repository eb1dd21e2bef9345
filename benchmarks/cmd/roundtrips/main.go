// Command roundtrips counts the round trips, and the server's commands, that
// each session operation costs a server-side store: read, write, new,
// login and logout, through the middleware, N requests each.
//
//	go run ./cmd/roundtrips                  # redisstore on a private redis-server
//	go run ./cmd/roundtrips -redis 127.0.0.1:6379 -n 1000
//
// Round trips are counted on the store's own connections
// (benchmarks.CountingDialer: a write that follows a read is one round
// trip, so a pipeline counts once). Commands are the server's own count:
// Redis's INFO commandstats, read before and after the N requests, on a
// connection of its own. Other clients of the same server add to its
// counts, so by default the program starts a redis-server of its own on a
// free loopback port and stops it at the end. Each operation runs a few
// times before it is counted, so that connection handshakes and script
// loading are not counted.
//
// By default it counts redisstore and the SQL stores of package sqlbench,
// pgstore and mysqlstore (-stores names others of benchmarks.Stores that
// dial through env.Dial). The server's
// own counts: Redis's INFO commandstats, and MySQL's SHOW GLOBAL STATUS
// Com_ counters (a prepared statement counts under stmt_execute and under
// its statement). PostgreSQL has no such counter without the
// pg_stat_statements extension, so its rows give the wire count only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
	"github.com/ctxsession/sessions/benchmarks/sqlbench"
	"github.com/redis/go-redis/v9"
)

// targets are the most round trips each operation should take: one per
// load, one per save, index updates pipelined with the save or delete they
// go with.
var targets = map[benchmarks.Op]struct {
	max int
	why string
}{
	benchmarks.OpRead:   {1, "one load"},
	benchmarks.OpWrite:  {2, "one load, one save"},
	benchmarks.OpNew:    {1, "one save"},
	benchmarks.OpLogin:  {3, "one load, one delete of the old record, one save of the new with its index entry"},
	benchmarks.OpLogout: {2, "one load, one delete with its index entry"},
}

var ops = []benchmarks.Op{benchmarks.OpRead, benchmarks.OpWrite, benchmarks.OpNew, benchmarks.OpLogin, benchmarks.OpLogout}

func main() {
	n := flag.Int("n", 200, "requests per operation")
	redisAddr := flag.String("redis", "", "Redis server to use; empty: start a private redis-server")
	stores := flag.String("stores", "redisstore,pgstore,mysqlstore", "comma-separated stores (benchmarks.Stores, sqlbench.Stores) that dial through env.Dial")
	flag.Parse()
	if err := run(os.Stdout, *n, *redisAddr, strings.Split(*stores, ",")); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, n int, redisAddr string, stores []string) error {
	server := "the Redis server at " + redisAddr
	if redisAddr == "" {
		addr, stop, err := startRedis()
		if err != nil {
			return err
		}
		defer stop()
		redisAddr, server = addr, "a private redis-server"
	}
	fmt.Fprintf(w, "Store round trips per request: %d requests per operation through the middleware (session 3key), %s.\n\n", n, server)
	fmt.Fprintln(w, "| store | op | round trips | server commands | commands per request | target |")
	fmt.Fprintln(w, "|---|---|--:|--:|---|---|")
	var verdicts []string
	for _, name := range stores {
		ctor, err := storeByName(name)
		if err != nil {
			return err
		}
		for _, op := range ops {
			c, err := count(name, ctor, op, n, redisAddr)
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, op, err)
			}
			t := targets[op]
			v := "held"
			if c.trips > float64(t.max) {
				v = "MISSED"
			}
			cmds, total := "–", "–"
			if c.commands != nil {
				cmds, total = c.describe(), fmt.Sprintf("%.2f", c.total())
			}
			fmt.Fprintf(w, "| %s | %s | %.2f | %s | %s | ≤ %d (%s): %s |\n", name, op, c.trips, total, cmds, t.max, t.why, v)
			if v != "held" {
				verdicts = append(verdicts, fmt.Sprintf("MISSED %s %s: %.2f round trips (want <= %d: %s)", name, op, c.trips, t.max, t.why))
			}
			if c.newConns > 0 {
				fmt.Fprintf(w, "\n(%s %s: %d connections were dialled while counting; their handshakes are in the count)\n", name, op, c.newConns)
			}
		}
	}
	fmt.Fprintln(w)
	for _, v := range verdicts {
		fmt.Fprintln(w, v)
	}
	return nil
}

// counted is what one operation cost, per request.
type counted struct {
	trips    float64
	commands map[string]float64 // nil: the store has no server counters
	newConns int
}

func (c counted) total() float64 {
	t := 0.0
	for _, v := range c.commands {
		t += v
	}
	return t
}

func (c counted) describe() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.commands)) {
		if v := c.commands[k]; v >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

// storeByName finds name in benchmarks.Stores, then in sqlbench.Stores.
func storeByName(name string) (benchmarks.StoreCtor, error) {
	ctor, err := benchmarks.StoreByName(name)
	if err == nil {
		return ctor, nil
	}
	for _, s := range sqlbench.Stores {
		if s.Name == name {
			return s, nil
		}
	}
	return benchmarks.StoreCtor{}, fmt.Errorf("%w, or pgstore, mysqlstore (sqlbench)", err)
}

// warmups is how many requests of each operation run before counting.
const warmups = 5

func count(name string, ctor benchmarks.StoreCtor, op benchmarks.Op, n int, redisAddr string) (counted, error) {
	var cd benchmarks.CountingDialer
	env := benchmarks.NewEnv()
	env.RedisAddr = redisAddr
	env.Dial = cd.Dial
	defer env.Close()
	st, err := ctor.Open(env)
	if err != nil {
		return counted{}, err
	}
	im, err := benchmarks.StoreImpl(name, st)
	if err != nil {
		return counted{}, err
	}
	sess := benchmarks.Small
	h := im.Handler(op, sess, nil)
	// The cookies the requests carry: one session for read and write,
	// one each for login (anonymous) and logout (logged in), none for new.
	cookies := make([]string, n+warmups)
	for i := range cookies {
		switch {
		case op == benchmarks.OpNew:
		case (op == benchmarks.OpRead || op == benchmarks.OpWrite) && i > 0:
			cookies[i] = cookies[0]
		default:
			if cookies[i], err = request(im.Handler(benchmarks.OpNew, sess, nil), ""); err != nil {
				return counted{}, fmt.Errorf("seeding: %w", err)
			}
			if op == benchmarks.OpLogout {
				if cookies[i], err = request(im.Handler(benchmarks.OpLogin, sess, nil), cookies[i]); err != nil {
					return counted{}, fmt.Errorf("logging in: %w", err)
				}
			}
		}
	}
	for _, c := range cookies[:warmups] {
		if _, err := request(h, c); err != nil {
			return counted{}, err
		}
	}
	ctx := context.Background()
	var before map[string]int64
	if st.Stats != nil {
		if before, err = st.Stats(ctx); err != nil {
			return counted{}, err
		}
	}
	conns, trips := cd.Conns(), cd.RoundTrips()
	for _, c := range cookies[warmups:] {
		if _, err := request(h, c); err != nil {
			return counted{}, err
		}
	}
	out := counted{trips: float64(cd.RoundTrips()-trips) / float64(n), newConns: cd.Conns() - conns}
	if cd.Conns() == 0 {
		return counted{}, errors.New("the store dialled nothing through env.Dial: its round trips cannot be counted")
	}
	if st.Stats != nil {
		after, err := st.Stats(ctx)
		if err != nil {
			return counted{}, err
		}
		out.commands = map[string]float64{}
		for k, v := range after {
			if d := v - before[k]; d > 0 && k != "info" {
				out.commands[k] = float64(d) / float64(n)
			}
		}
	}
	return out, nil
}

// request runs one request through h with the Cookie header cookie (none
// when empty), checks for a 204, and returns the Cookie header the
// response set ("" when none).
func request(h http.Handler, cookie string) (string, error) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		return "", fmt.Errorf("status %d, want 204: %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", nil
}

// startRedis starts a redis-server without persistence on a free loopback
// port, and returns its address and a function that stops it.
func startRedis() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	dir, err := os.MkdirTemp("", "roundtrips-redis-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(addr.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("starting redis-server (apt-get install redis-server): %w", err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr.String()})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("the private redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr.String(), stop, nil
}
