// Command serverbench measures the session libraries on a real net/http
// server: the server runs pinned to one CPU (taskset), wrk loads it over
// loopback from another, and the same tiny handler runs bare and behind
// each library. For every library and workload it prints the requests per
// second, the fraction of the bare server's throughput kept, wrk's p50 and
// p99 latency, and the server's own CPU time, allocations and bytes per
// request.
//
//	go run ./cmd/serverbench                        # 5 s per run, the default libraries
//	go run ./cmd/serverbench -d 1s -impls bare,ctxsession-cookie
//	go run ./cmd/serverbench -impls ctxsession-cookie -profile /tmp/prof
//
// Each run starts the server as a child process (this program with
// -serve), mints a session cookie with the library's new workload, checks
// that the workload answers as it should, warms up, and then runs wrk for
// -d with a Lua script that sends the cookie and prints the latency
// percentiles. The bare server runs first and last for each workload; the
// fraction is taken against the mean of the two. On a shared machine the
// throughput moves with the neighbours' load; the server's CPU time per
// request moves much less, and "bare CPU ÷ this" is the fraction of the
// bare server's throughput a saturated single-CPU server keeps. With
// -profile DIR the server writes a CPU profile of the measured run and an
// allocation profile to DIR/<impl>-<op>.{cpu,mem}.pprof.
//
// wrk is the Debian package wrk (apt-get install wrk); taskset is in
// util-linux. Everything listens on 127.0.0.1 and every run stops by itself.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
)

// The libraries a run measures by default: this module's default cookie
// and its stores, and the peers.
const defaultImpls = "bare-vary,ctxsession-cookie,ctxsession-memstore,ctxsession-redisstore,gorilla-cookie,gorilla-filesystem,scs-memstore,scs-redisstore"

// bare is the name of the server without a session library; bareVary is
// the same server setting the one header every session library must set
// (Vary: Cookie), which shows what a first response header costs in
// net/http.
const (
	bare     = "bare"
	bareVary = "bare-vary"
)

// The targets: the fraction of the bare server's throughput the default
// configuration (cookie mode, default format) keeps.
var targets = map[benchmarks.Op]float64{benchmarks.OpRead: 0.85, benchmarks.OpWrite: 0.75}

const targetImpl = "ctxsession-cookie"

func main() {
	serve := flag.Bool("serve", false, "run as the server (internal)")
	impl := flag.String("impl", bare, "with -serve: the library")
	op := flag.String("op", "read", "with -serve: the workload")
	sessName := flag.String("session", benchmarks.Small.Name, "the session: 3key, cart or near-limit")
	cpuprofile := flag.String("cpuprofile", "", "with -serve: write a CPU profile of the measured run here")
	memprofile := flag.String("memprofile", "", "with -serve: write an allocation profile here at exit")
	redisAddr := flag.String("redis", benchmarks.DefaultRedisAddr, "Redis address for the Redis stores")

	dur := flag.Duration("d", 3*time.Second, "duration of each measured run")
	rounds := flag.Int("rounds", 3, "rounds: each runs every library once per workload; the table gives medians")
	warm := flag.Duration("warmup", time.Second, "duration of the warm-up before each run")
	conns := flag.Int("c", 16, "wrk connections")
	nSessions := flag.Int("sessions", 64, "distinct sessions the requests take turns with (1: every request on one session)")
	impls := flag.String("impls", defaultImpls, "comma-separated libraries (bare always runs); \"all\" for every one")
	ops := flag.String("ops", "read,write", "comma-separated workloads: read, write, new, untouched")
	serverCPU := flag.Int("server-cpu", 0, "CPU the server is pinned to")
	loadCPU := flag.Int("load-cpu", 1, "CPU wrk is pinned to")
	profile := flag.String("profile", "", "directory for the server's CPU and allocation profiles")
	flag.Parse()

	sess, err := benchmarks.SessionByName(*sessName)
	if err != nil {
		log.Fatal(err)
	}
	if *serve {
		if err := runServer(*impl, benchmarks.Op(*op), sess, *redisAddr, *cpuprofile, *memprofile); err != nil {
			log.Fatal(err)
		}
		return
	}
	names := strings.Split(*impls, ",")
	if *impls == "all" {
		names = benchmarks.Names()
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == bare || n == "" })
	cfg := runConfig{
		session: sess, redis: *redisAddr, dur: *dur, warm: *warm, conns: *conns,
		serverCPU: *serverCPU, loadCPU: *loadCPU, profile: *profile, sessions: max(1, *nSessions),
	}
	if err := cfg.check(); err != nil {
		log.Fatal(err)
	}
	failed := false
	var all []row
	for round := range *rounds {
		for _, o := range strings.Split(*ops, ",") {
			op := benchmarks.Op(o)
			order := append(append([]string{bare}, names...), bare)
			for i, name := range order {
				r := cfg.run(name, op, i == len(order)-1)
				r.round = round
				if r.err != nil {
					failed = true
					fmt.Fprintf(os.Stderr, "serverbench: %s %s: %v\n", name, op, r.err)
				} else {
					fmt.Fprintf(os.Stderr, "serverbench: round %d %s %s: %.0f req/s\n", round+1, op, name, r.rps)
				}
				all = append(all, r)
			}
		}
	}
	cfg.rounds = *rounds
	printResults(os.Stdout, cfg, all)
	if failed {
		os.Exit(1)
	}
}

type runConfig struct {
	session            *benchmarks.Session
	redis              string
	dur, warm          time.Duration
	conns              int
	serverCPU, loadCPU int
	profile            string
	rounds             int
	sessions           int
}

func (c runConfig) check() error {
	for _, tool := range []string{"wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install wrk util-linux): %w", tool, err)
		}
	}
	if n := runtime.NumCPU(); c.serverCPU >= n || c.loadCPU >= n || c.serverCPU == c.loadCPU {
		return fmt.Errorf("-server-cpu %d and -load-cpu %d: want two different CPUs of the %d here", c.serverCPU, c.loadCPU, n)
	}
	if c.profile != "" {
		return os.MkdirAll(c.profile, 0o755)
	}
	return nil
}

// A row is one measured run.
type row struct {
	impl       string
	op         benchmarks.Op
	again      bool // the second bare run of a workload in a round
	round      int
	rps        float64
	p50, p99   time.Duration
	stats      serverStats
	requests   int64
	maxprocs   int
	cookieSize int
	err        error
}

// serverStats is what the server measured of itself over the run.
type serverStats struct {
	CPUNanos int64  `json:"cpu_ns"`
	Mallocs  uint64 `json:"mallocs"`
	Bytes    uint64 `json:"bytes"`
	NumGC    uint32 `json:"gcs"`
	Requests int64  `json:"requests"`
}

func (c runConfig) run(name string, op benchmarks.Op, again bool) row {
	r := row{impl: name, op: op, again: again}
	r.err = c.runOne(&r)
	return r
}

func (c runConfig) runOne(r *row) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-c", strconv.Itoa(c.serverCPU), self, "-serve", "-impl", r.impl, "-op", string(r.op), "-session", c.session.Name, "-redis", c.redis}
	if c.profile != "" && r.impl != bare && r.impl != bareVary {
		base := filepath.Join(c.profile, r.impl+"-"+string(r.op))
		args = append(args, "-cpuprofile", base+".cpu.pprof", "-memprofile", base+".mem.pprof")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.warm+c.dur+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "taskset", args...)
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	// The server exits when this pipe closes, so it never outlives us.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var addr string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			f := strings.Fields(a)
			addr = f[0]
			if len(f) > 1 {
				r.maxprocs, _ = strconv.Atoi(strings.TrimPrefix(f[1], "gomaxprocs="))
			}
			break
		}
	}
	if addr == "" {
		return errors.New("the server did not start")
	}
	go io.Copy(io.Discard, out)
	base := "http://" + addr

	cookies := make([]string, c.sessions)
	for i := range cookies {
		if cookies[i], err = mint(base); err != nil {
			return fmt.Errorf("minting a cookie: %w", err)
		}
	}
	r.cookieSize = len(cookies[0])
	if err := checkWorkload(base, r.impl, r.op, cookies[0]); err != nil {
		return err
	}
	if r.op == benchmarks.OpNew {
		cookies = nil
	}
	script, err := writeScript(cookies)
	if err != nil {
		return err
	}
	defer os.Remove(script)
	if c.warm > 0 {
		if _, err := c.wrk(script, base, c.warm); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	if _, err := get(base + "/__bench/start"); err != nil {
		return err
	}
	res, err := c.wrk(script, base, c.dur)
	if err != nil {
		return err
	}
	body, err := get(base + "/__bench/stop")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &r.stats); err != nil {
		return fmt.Errorf("server stats %q: %w", body, err)
	}
	r.requests = res.requests
	r.rps = float64(res.requests) / res.duration.Seconds()
	r.p50, r.p99 = res.p50, res.p99
	if res.errors > 0 {
		return fmt.Errorf("wrk counted %d errors (status, connect, read, write, timeout): %s", res.errors, res.line)
	}
	if res.requests == 0 {
		return errors.New("wrk made no requests")
	}
	return nil
}
