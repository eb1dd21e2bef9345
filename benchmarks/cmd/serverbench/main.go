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
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// mint returns the Cookie header of a new session, from the server's new
// workload.
func mint(base string) (string, error) {
	resp, err := http.Get(base + "/__bench/mint")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	cs := resp.Cookies()
	if resp.StatusCode != http.StatusNoContent || len(cs) != 1 {
		return "", fmt.Errorf("status %d, %d cookies; want 204 and one", resp.StatusCode, len(cs))
	}
	return cs[0].Name + "=" + cs[0].Value, nil
}

// checkWorkload sends one request of the workload and checks the answer:
// 204, a Set-Cookie on write and new, none on a read or an untouched
// request (gorilla/sessions and scs send one on a read too, so that is
// only checked for this module).
func checkWorkload(base, impl string, op benchmarks.Op, cookie string) error {
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	if op != benchmarks.OpNew {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s: status %d, want 204: %s", op, resp.StatusCode, body)
	}
	sets := len(resp.Header.Values("Set-Cookie"))
	switch {
	case impl == bare || impl == bareVary:
	case op == benchmarks.OpWrite || op == benchmarks.OpNew:
		if sets != 1 {
			return fmt.Errorf("%s: %d Set-Cookie lines, want 1", op, sets)
		}
	case strings.HasPrefix(impl, "ctxsession") && sets != 0:
		return fmt.Errorf("%s: %d Set-Cookie lines, want none", op, sets)
	}
	return nil
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	return b, err
}

// writeScript writes the wrk script: the requests take turns with the
// cookies (each a session of its own, so that concurrent requests are of
// different sessions, as on a real site), or carry none when there are
// none; done prints one RESULT line that parseWrk reads.
func writeScript(cookies []string) (string, error) {
	f, err := os.CreateTemp("", "serverbench-*.lua")
	if err != nil {
		return "", err
	}
	defer f.Close()
	var list strings.Builder
	for _, c := range cookies {
		list.WriteString("  " + strconv.Quote(c) + ",\n")
	}
	_, err = fmt.Fprintf(f, `local cookies = {
%s}
local reqs, i = {}, 0

function init(args)
  for k, c in ipairs(cookies) do
    reqs[k] = wrk.format("GET", "/", {Cookie = c})
  end
  if #reqs == 0 then reqs[1] = wrk.format("GET", "/") end
end

function request()
  i = i %% #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%%d duration_us=%%d p50_us=%%.0f p99_us=%%.0f errors=%%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`, list.String())
	return f.Name(), err
}

type wrkResult struct {
	requests, errors int64
	duration         time.Duration
	p50, p99         time.Duration
	line             string
}

var resultRE = regexp.MustCompile(`RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+)`)

func (c runConfig) wrk(script, base string, d time.Duration) (wrkResult, error) {
	secs := max(1, int(math.Round(d.Seconds())))
	cmd := exec.Command("taskset", "-c", strconv.Itoa(c.loadCPU), "wrk", "-t1", "-c", strconv.Itoa(c.conns),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "5s", "-s", script, base+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (wrkResult, error) {
	m := resultRE.FindStringSubmatch(out)
	if m == nil {
		return wrkResult{}, fmt.Errorf("no RESULT line in wrk's output: %s", out)
	}
	n := make([]int64, 5)
	for i := range n {
		n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
	}
	return wrkResult{requests: n[0], duration: time.Duration(n[1]) * time.Microsecond,
		p50: time.Duration(n[2]) * time.Microsecond, p99: time.Duration(n[3]) * time.Microsecond,
		errors: n[4], line: m[0]}, nil
}

// printResults prints one markdown table per workload, of medians over
// the rounds, and the targets. A run's fraction and CPU time over bare are
// taken against the mean of the two bare runs of its own round.
func printResults(w io.Writer, c runConfig, rows []row) {
	mp := 0
	for _, r := range rows {
		mp = max(mp, r.maxprocs)
	}
	fmt.Fprintf(w, "Real server: net/http on CPU %d (GOMAXPROCS %d), wrk -t1 -c%d on CPU %d, loopback, session %s; %d rounds of %v per run after a %v warm-up. Medians over the rounds; the fraction's range in parentheses.\n",
		c.serverCPU, mp, c.conns, c.loadCPU, c.session.Name, c.rounds, c.dur, c.warm)
	var ops []benchmarks.Op
	var names []string
	for _, r := range rows {
		if !slices.Contains(ops, r.op) {
			ops = append(ops, r.op)
		}
		if !slices.Contains(names, r.impl) {
			names = append(names, r.impl)
		}
	}
	// The bare server's mean throughput and CPU time per request, by
	// workload and round.
	type key struct {
		op    benchmarks.Op
		round int
	}
	bareRPS, bareCPU := map[key][]float64{}, map[key][]float64{}
	for _, r := range rows {
		if r.impl == bare && r.err == nil {
			k := key{r.op, r.round}
			bareRPS[k] = append(bareRPS[k], r.rps)
			bareCPU[k] = append(bareCPU[k], r.cpuPerReq())
		}
	}
	var verdicts []string
	for _, op := range ops {
		fmt.Fprintf(w, "\n#### %s\n\n", op)
		fmt.Fprintln(w, "| server | req/s | ÷ bare | p50 | p99 | server CPU µs/req | over bare µs | bare CPU ÷ this | allocs/req | B/req | cookie B |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, name := range names {
			var rps, frac, cpuFrac, p50, p99, cpu, over, allocs, bytes []float64
			cookie, fails := 0, 0
			for _, r := range rows {
				if r.op != op || r.impl != name {
					continue
				}
				if r.err != nil {
					fails++
					continue
				}
				k := key{op, r.round}
				rps = append(rps, r.rps)
				if ref := mean(bareRPS[k]); ref > 0 {
					frac = append(frac, r.rps/ref)
					over = append(over, r.cpuPerReq()-mean(bareCPU[k]))
					if r.cpuPerReq() > 0 {
						cpuFrac = append(cpuFrac, mean(bareCPU[k])/r.cpuPerReq())
					}
				}
				p50 = append(p50, float64(r.p50))
				p99 = append(p99, float64(r.p99))
				cpu = append(cpu, r.cpuPerReq())
				allocs = append(allocs, r.perReq(float64(r.stats.Mallocs)))
				bytes = append(bytes, r.perReq(float64(r.stats.Bytes)))
				cookie = r.cookieSize
			}
			if len(rps) == 0 {
				fmt.Fprintf(w, "| %s | failed | | | | | | | | | |\n", name)
				continue
			}
			fr := "–"
			if len(frac) > 0 {
				fr = fmt.Sprintf("%.2f (%.2f–%.2f)", median(frac), slices.Min(frac), slices.Max(frac))
			}
			note := ""
			if fails > 0 {
				note = fmt.Sprintf(" (%d runs failed)", fails)
			}
			fmt.Fprintf(w, "| %s%s | %.0f | %s | %s | %s | %.1f | %+.1f | %.2f | %.1f | %.0f | %d |\n",
				name, note, median(rps), fr, us(time.Duration(median(p50))), us(time.Duration(median(p99))),
				median(cpu), median(over), median(cpuFrac), median(allocs), median(bytes), cookie)
			if want, ok := targets[op]; ok && name == targetImpl && len(frac) > 0 {
				// Held only when the CPU time per request agrees: on a
				// shared machine the throughput alone moves with the
				// neighbours.
				v := "HELD  "
				if median(frac) < want || median(cpuFrac) < want {
					v = "MISSED"
				}
				verdicts = append(verdicts, fmt.Sprintf("%s %s: %s keeps %.2f of the bare server's throughput, %.2f by CPU time per request (want >= %.2f for both)", v, op, targetImpl, median(frac), median(cpuFrac), want))
			}
		}
	}
	if len(verdicts) > 0 {
		fmt.Fprintln(w)
		for _, v := range verdicts {
			fmt.Fprintln(w, v)
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r row) perReq(v float64) float64 {
	if r.stats.Requests == 0 {
		return 0
	}
	return v / float64(r.stats.Requests)
}

func (r row) cpuPerReq() float64 { return r.perReq(float64(r.stats.CPUNanos)) / 1000 }

func us(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// runServer is the child: it serves the workload on 127.0.0.1 until
// SIGTERM or SIGINT, until its standard input closes (the parent is gone),
// or for ten minutes at most. It prints "listening ADDR gomaxprocs=N" once
// ready.
func runServer(name string, op benchmarks.Op, sess *benchmarks.Session, redisAddr, cpuprofile, memprofile string) error {
	env := benchmarks.NewEnv()
	env.RedisAddr = redisAddr
	defer env.Close()
	var work, minter http.Handler
	if name == bare || name == bareVary {
		// The bare server gets the cookie the default configuration mints,
		// so that its requests are the same size.
		ims, err := benchmarks.Open(env, targetImpl)
		if err != nil {
			return err
		}
		work, minter = benchmarks.Nothing(), ims[0].Handler(benchmarks.OpNew, sess, nil)
		if name == bareVary {
			work = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Vary", "Cookie")
				w.WriteHeader(http.StatusNoContent)
			})
		}
	} else {
		ims, err := benchmarks.Open(env, name)
		if err != nil {
			return err
		}
		if why := ims[0].Refuses(sess); why != "" {
			return fmt.Errorf("%s cannot carry the %s session: %s", name, sess.Name, why)
		}
		work, minter = ims[0].Handler(op, sess, nil), ims[0].Handler(benchmarks.OpNew, sess, nil)
	}

	var (
		requests atomic.Int64
		mu       sync.Mutex // guards start and profFile
		start    serverStats
		profFile *os.File
	)
	mux := http.NewServeMux()
	mux.Handle("/__bench/mint", minter)
	mux.HandleFunc("/__bench/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cpuprofile != "" && profFile == nil {
			f, err := os.Create(cpuprofile)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			profFile = f
		}
		start = snapshot()
		requests.Store(0)
	})
	mux.HandleFunc("/__bench/stop", func(w http.ResponseWriter, r *http.Request) {
		end := snapshot()
		n := requests.Load()
		mu.Lock()
		defer mu.Unlock()
		if profFile != nil {
			pprof.StopCPUProfile()
			profFile.Close()
			profFile = nil
		}
		json.NewEncoder(w).Encode(serverStats{
			CPUNanos: end.CPUNanos - start.CPUNanos, Mallocs: end.Mallocs - start.Mallocs,
			Bytes: end.Bytes - start.Bytes, NumGC: end.NumGC - start.NumGC, Requests: n,
		})
	})
	// The workload's requests go straight to the handler, without the
	// mux.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__bench/") {
			mux.ServeHTTP(w, r)
			return
		}
		requests.Add(1)
		work.ServeHTTP(w, r)
	})
	if runtime.GOMAXPROCS(0) != 1 {
		return fmt.Errorf("GOMAXPROCS is %d: run the server pinned to one CPU (taskset -c N)", runtime.GOMAXPROCS(0))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening %s gomaxprocs=%d\n", ln.Addr(), runtime.GOMAXPROCS(0))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Minute):
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

func snapshot() serverStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return serverStats{CPUNanos: ru.Utime.Nano() + ru.Stime.Nano(), Mallocs: ms.Mallocs, Bytes: ms.TotalAlloc, NumGC: ms.NumGC}
}
