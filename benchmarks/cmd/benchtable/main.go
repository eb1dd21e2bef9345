// Command benchtable reads the output of the benchmarks module's
// `go test -bench` run (with -count N) on stdin and prints, for each
// harness and session, a markdown table of medians (ns/op, CPU ns/op, B/op,
// allocs/op) with each row's ratios to gorilla/sessions, to scs and to the
// floor. It then checks the performance targets against the same run and
// prints one line per target. With -strict it exits with status 1 when a
// target is missed.
//
// Benchmark names are Group/floor=http, Group/session=S/floor=codec and
// Group/session=S/op=O/impl=I, as the benchmarks module writes them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result holds the summary of one benchmark's runs.
type result struct {
	ns, cpu, bytes, allocs float64 // cpu: 0 when not reported
	n                      int     // runs
}

type sample struct{ ns, cpu, bytes, allocs []float64 }

// A metric picks the time a target is checked on.
type metric struct {
	name string
	of   func(result) float64
}

var (
	wall = metric{"wall-clock ns/op", func(r result) float64 { return r.ns }}
	cpu  = metric{"CPU ns/op", func(r result) float64 { return r.cpu }}
)

var (
	lineRE = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	dupRE  = regexp.MustCompile(`#\d+$`) // "#01": a name run again in the same round
)

// The implementations the ratio columns divide by, and the default one.
const (
	gorillaRef = "gorilla-cookie"
	scsRef     = "scs-memstore"
	ours       = "ctxsession-cookie"
	targetSess = "3key"
	targetHarn = "Sessions"
)

func main() {
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	stat := flag.String("stat", "median", "median, or min (the least disturbed run, for a noisy machine)")
	only := flag.String("sessions", "", "comma-separated sessions to print (default all)")
	groupsFlag := flag.String("harness", "Sessions,Lean", "comma-separated harnesses to print")
	flag.Parse()
	switch *stat {
	case "median":
	case "min":
		summarize, statName = slices.Min[[]float64], "Minimums"
	default:
		fmt.Fprintf(os.Stderr, "benchtable: -stat %q: want median or min\n", *stat)
		os.Exit(2)
	}
	t, header, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if len(t.res) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(2)
	}
	for _, h := range header {
		fmt.Println(h)
	}
	for _, g := range strings.Split(*groupsFlag, ",") {
		for _, s := range t.sessions {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), s) {
				continue
			}
			if !t.has(g, s) {
				continue
			}
			fmt.Printf("\n#### %s, session %s\n\n", groupTitle(g), s)
			t.printTable(os.Stdout, g, s)
		}
	}
	missed := 0
	for i, m := range []metric{wall, cpu} {
		if m.of(t.res[name(targetHarn, "", "", "", "http")]) == 0 {
			continue // not reported
		}
		fmt.Println()
		missed += t.checkTargets(os.Stdout, m, i == 0)
	}
	if missed > 0 && *strict {
		os.Exit(1)
	}
}

func groupTitle(g string) string {
	switch g {
	case "Sessions":
		return "Through httptest (a request parsed per operation, a new recorder)"
	case "Lean":
		return "Lean harness (a copied request, a reused writer)"
	}
	return g
}

// table is one run's results.
type table struct {
	res      map[string]result
	order    []string // benchmark names, first seen first
	sessions []string // first seen first
}

// name returns the canonical benchmark name of its parts: a floor when
// floor is set (with a session for the codec floor), else a workload.
func name(group, session, op, impl, floor string) string {
	switch {
	case floor != "" && session == "":
		return group + "/floor=" + floor
	case floor != "":
		return group + "/session=" + session + "/floor=" + floor
	}
	return group + "/session=" + session + "/op=" + op + "/impl=" + impl
}

// fields splits a benchmark name into its group and its key=value parts.
func fields(n string) (group string, kv map[string]string) {
	parts := strings.Split(n, "/")
	kv = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		kv[k] = v
	}
	return parts[0], kv
}

// parse reads benchmark lines and returns their summaries by name (without
// the "-GOMAXPROCS" suffix) and the goos/goarch/cpu header lines.
func parse(r io.Reader) (*table, []string, error) {
	samples := map[string]*sample{}
	t := &table{res: map[string]result{}}
	var header []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(line, p) && !slices.Contains(header, line) {
				header = append(header, line)
			}
		}
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n := dupRE.ReplaceAllString(m[1], "")
		s := samples[n]
		if s == nil {
			s = &sample{}
			samples[n] = s
			t.order = append(t.order, n)
			if _, kv := fields(n); kv["session"] != "" && !slices.Contains(t.sessions, kv["session"]) {
				t.sessions = append(t.sessions, kv["session"])
			}
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("bad value %q in %q", f[i], line)
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "cpu-ns/op":
				s.cpu = append(s.cpu, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	for n, s := range samples {
		t.res[n] = result{ns: summary(s.ns), cpu: summary(s.cpu), bytes: summary(s.bytes), allocs: summary(s.allocs), n: len(s.ns)}
	}
	return t, header, nil
}

// summarize reduces a benchmark's runs to one number: median by default.
var summarize = median

// statName names summarize in the output.
var statName = "Medians"

func summary(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return summarize(v)
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

func (t *table) has(group, session string) bool {
	for _, n := range t.order {
		if g, kv := fields(n); g == group && kv["session"] == session && kv["op"] != "" {
			return true
		}
	}
	return false
}

func (t *table) get(group, session, op, impl string) (result, bool) {
	r, ok := t.res[name(group, session, op, impl, "")]
	return r, ok
}

// floor returns the floor of a workload: the do-nothing handler of the
// harness, plus one codec round trip of the session (which does not depend
// on the harness) for the workloads that decode or encode one.
func (t *table) floor(group, session, op string, m metric) (float64, bool) {
	h, ok := t.res[name(group, "", "", "", "http")]
	if !ok || m.of(h) == 0 {
		return 0, false
	}
	if op == "untouched" {
		return m.of(h), true
	}
	c, ok := t.res[name("Sessions", session, "", "", "codec")]
	if !ok || m.of(c) == 0 {
		return 0, false
	}
	return m.of(h) + m.of(c), true
}

// ratio formats a/b on wall clock, then CPU time in parentheses.
func ratio(a, b func(metric) (float64, bool)) string {
	out := ""
	for i, m := range []metric{wall, cpu} {
		x, ok1 := a(m)
		y, ok2 := b(m)
		if !ok1 || !ok2 || x == 0 || y == 0 {
			continue
		}
		if i == 0 {
			out = fmt.Sprintf("%.2f", x/y)
		} else {
			out += fmt.Sprintf(" (%.2f)", x/y)
		}
	}
	if out == "" {
		return "–"
	}
	return out
}

func (t *table) printTable(w io.Writer, group, session string) {
	fmt.Fprintf(w, "%s of %d runs. Time ratios: wall clock, then CPU time in parentheses; above 1 in the ÷ this columns means this row is faster.\n", statName, t.res[name(group, "", "", "", "http")].n/2)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| op | implementation | ns/op | cpu-ns/op | B/op | allocs/op | gorilla ÷ this | scs ÷ this | this ÷ floor |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	of := func(r result, ok bool) func(metric) (float64, bool) {
		return func(m metric) (float64, bool) { return m.of(r), ok }
	}
	for _, n := range t.order {
		g, kv := fields(n)
		if g != group || kv["session"] != session || kv["op"] == "" {
			continue
		}
		op, impl := kv["op"], kv["impl"]
		r := t.res[n]
		this := of(r, true)
		fl := func(m metric) (float64, bool) { return t.floor(group, session, op, m) }
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s |\n",
			op, impl, r.ns, r.cpu, r.bytes, r.allocs,
			ratio(of(t.get(group, session, op, gorillaRef)), this),
			ratio(of(t.get(group, session, op, scsRef)), this),
			ratio(this, fl))
	}
	if r, ok := t.res[name(group, "", "", "", "http")]; ok {
		fmt.Fprintf(w, "| floor | do-nothing handler | %.0f | %.0f | %.0f | %.0f | | | |\n", r.ns, r.cpu, r.bytes, r.allocs)
	}
	if r, ok := t.res[name("Sessions", session, "", "", "codec")]; ok {
		fmt.Fprintf(w, "| floor | bare HMAC+base64+JSON round trip | %.0f | %.0f | %.0f | %.0f | | | |\n", r.ns, r.cpu, r.bytes, r.allocs)
	}
}

// checkTargets prints one HELD or MISSED line per target of the project,
// timed by m on the httptest harness and the 3-key session, and returns
// the number missed. allocs adds the allocation report.
func (t *table) checkTargets(w io.Writer, m metric, allocs bool) int {
	missed := 0
	check := func(ok bool, format string, args ...any) {
		verdict := "HELD  "
		if !ok {
			verdict = "MISSED"
			missed++
		}
		fmt.Fprintf(w, "%s %s\n", verdict, fmt.Sprintf(format, args...))
	}
	get := func(op, impl string) (result, bool) { return t.get(targetHarn, targetSess, op, impl) }
	var impls []string
	for _, n := range t.order {
		if g, kv := fields(n); g == targetHarn && kv["session"] == targetSess && strings.HasPrefix(kv["impl"], "ctxsession") && !slices.Contains(impls, kv["impl"]) {
			impls = append(impls, kv["impl"])
		}
	}

	fmt.Fprintf(w, "Targets on %s (%s of this run, through httptest, session %s):\n", m.name, strings.ToLower(statName), targetSess)
	// gorilla/sessions has no middleware, so its untouched row runs the
	// floor's code: the difference between the two is noise.
	if g, ok := get("untouched", gorillaRef); ok {
		if f, ok := t.floor(targetHarn, targetSess, "untouched", m); ok && m.of(g) > 0 {
			fmt.Fprintf(w, "info   noise: %s/untouched runs the same code as floor=http and measured %+.0f%%\n", gorillaRef, 100*(m.of(g)/f-1))
		}
	}
	for _, tg := range []struct {
		op   string
		want float64
	}{{"read", 5}, {"write", 5}, {"new", 3}} {
		r, ok1 := get(tg.op, ours)
		g, ok2 := get(tg.op, gorillaRef)
		if ok1 && ok2 && m.of(r) > 0 {
			check(m.of(g)/m.of(r) >= tg.want, "%s: %s %.2fx faster than gorilla/sessions (want >= %g)", tg.op, ours, m.of(g)/m.of(r), tg.want)
		}
		if h, ok := t.floor(targetHarn, targetSess, "untouched", m); ok1 && ok2 && ok && m.of(r) > h && m.of(g) > h {
			fmt.Fprintf(w, "info   %s: above the do-nothing floor, gorilla/sessions takes %.0f ns, %s %.0f ns: %.2fx\n",
				tg.op, m.of(g)-h, ours, m.of(r)-h, (m.of(g)-h)/(m.of(r)-h))
		}
	}
	for _, impl := range impls {
		r, ok1 := get("untouched", impl)
		f, ok2 := t.floor(targetHarn, targetSess, "untouched", m)
		if ok1 && ok2 {
			check(m.of(r)/f <= 1.25, "untouched: %s at %.2fx the request floor, %+.0f ns (want <= 1.25)", impl, m.of(r)/f, m.of(r)-f)
		}
	}
	for _, op := range []string{"read", "write"} {
		r, ok1 := get(op, "ctxsession-memstore")
		s, ok2 := get(op, scsRef)
		if ok1 && ok2 && m.of(r) > 0 {
			check(m.of(s)/m.of(r) >= 3, "%s: ctxsession-memstore %.2fx faster than scs with its memstore (want >= 3)", op, m.of(s)/m.of(r))
		}
	}
	if !allocs {
		return missed
	}
	// Allocations are the library's own: the request floor's (parsing the
	// request, the recorder) are subtracted.
	h, hok := t.res[name(targetHarn, "", "", "", "http")]
	if !hok {
		return missed
	}
	fmt.Fprintf(w, "Allocations per request above the request floor (%.0f), session %s:\n", h.allocs, targetSess)
	for _, op := range []string{"new", "read", "write", "untouched"} {
		line := "info   " + op + ":"
		for _, impl := range []string{ours, "ctxsession-memstore", gorillaRef, scsRef} {
			if r, ok := get(op, impl); ok {
				line += fmt.Sprintf(" %s %.0f,", impl, r.allocs-h.allocs)
			}
		}
		fmt.Fprintln(w, strings.TrimSuffix(line, ","))
	}
	return missed
}
