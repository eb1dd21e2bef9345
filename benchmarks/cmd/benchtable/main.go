// Command benchtable reads the output of the benchmarks module's
// `go test -bench` run (with -count N) on stdin and prints a markdown table
// of medians: ns/op, B/op, allocs/op, and each row's ratios to
// gorilla/sessions, to scs and to the floor. It then checks the performance
// targets against the same run and prints one line per target. With
// -strict it exits with status 1 when a target is missed.
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

// result holds the medians of one benchmark.
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

func main() {
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	stat := flag.String("stat", "median", "median, or min (the least disturbed run, for a noisy machine)")
	flag.Parse()
	switch *stat {
	case "median":
	case "min":
		summarize, statName = slices.Min[[]float64], "Minimums"
	default:
		fmt.Fprintf(os.Stderr, "benchtable: -stat %q: want median or min\n", *stat)
		os.Exit(2)
	}
	res, order, header, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(2)
	}
	for _, h := range header {
		fmt.Println(h)
	}
	missed := 0
	for _, g := range groups {
		// Each group is printed as if it were Sessions; the codec floor
		// does not depend on the harness and is shared.
		sub, subOrder := map[string]result{}, []string(nil)
		for _, name := range order {
			if rest, ok := strings.CutPrefix(name, g.prefix+"/"); ok {
				sub["Sessions/"+rest] = res[name]
				subOrder = append(subOrder, "Sessions/"+rest)
			}
		}
		if len(subOrder) == 0 {
			continue
		}
		if c, ok := res["Sessions/floor/codec"]; ok {
			if _, have := sub["Sessions/floor/codec"]; !have {
				sub["Sessions/floor/codec"] = c
				subOrder = append(subOrder, "Sessions/floor/codec")
			}
		}
		fmt.Printf("\n#### %s\n\n", g.title)
		printTable(os.Stdout, sub, subOrder)
		for i, m := range []metric{wall, cpu} {
			if m.of(sub["Sessions/floor/http"]) == 0 {
				continue // not reported
			}
			fmt.Println()
			missed += checkTargets(os.Stdout, sub, m, i == 0)
		}
	}
	if missed > 0 && *strict {
		os.Exit(1)
	}
}

// groups are the benchmarks' harnesses, as named by bench_test.go.
var groups = []struct{ prefix, title string }{
	{"Sessions", "Through httptest: a request parsed per operation, a new recorder"},
	{"Lean", "Lean harness: a copied request, a reused writer"},
}

// parse reads benchmark lines and returns medians by name (without the
// "-GOMAXPROCS" suffix), names in first-seen order, and the goos/goarch/cpu
// header lines.
func parse(r io.Reader) (map[string]result, []string, []string, error) {
	samples := map[string]*sample{}
	var order, header []string
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
		name := dupRE.ReplaceAllString(m[1], "")
		s := samples[name]
		if s == nil {
			s = &sample{}
			samples[name] = s
			order = append(order, name)
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("bad value %q in %q", f[i], line)
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
		return nil, nil, nil, err
	}
	out := map[string]result{}
	for name, s := range samples {
		out[name] = result{ns: summary(s.ns), cpu: summary(s.cpu), bytes: summary(s.bytes), allocs: summary(s.allocs), n: len(s.ns)}
	}
	return out, order, header, nil
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

// floor returns the floor of a workload: the do-nothing handler, plus one
// codec round trip for the workloads that decode or encode a session.
func floor(res map[string]result, workload string, m metric) (float64, bool) {
	h, ok := res["Sessions/floor/http"]
	if !ok || m.of(h) == 0 {
		return 0, false
	}
	if workload == "untouched" {
		return m.of(h), true
	}
	c, ok := res["Sessions/floor/codec"]
	if !ok {
		return 0, false
	}
	return m.of(h) + m.of(c), true
}

func split(name string) (workload, impl string, ok bool) {
	rest, ok := strings.CutPrefix(name, "Sessions/")
	if !ok {
		return "", "", false
	}
	if strings.HasPrefix(rest, "floor/") {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

func printTable(w io.Writer, res map[string]result, order []string) {
	fmt.Fprintf(w, "%s of %d runs. Time ratios: wall clock, then CPU time in parentheses.\n", statName, res["Sessions/floor/http"].n/2)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | implementation | ns/op | cpu-ns/op | B/op | allocs/op | gorilla ÷ this | scs ÷ this | this ÷ floor |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	both := func(num, den func(metric) (float64, bool)) string {
		out := ""
		for i, m := range []metric{wall, cpu} {
			a, ok1 := num(m)
			b, ok2 := den(m)
			if !ok1 || !ok2 || a == 0 || b == 0 {
				continue
			}
			if i == 0 {
				out = fmt.Sprintf("%.2f", a/b)
			} else {
				out += fmt.Sprintf(" (%.2f)", a/b)
			}
		}
		if out == "" {
			return "–"
		}
		return out
	}
	for _, name := range order {
		r := res[name]
		workload, impl, ok := split(name)
		if !ok {
			continue
		}
		of := func(key string) func(metric) (float64, bool) {
			return func(m metric) (float64, bool) {
				x, ok := res[key]
				return m.of(x), ok
			}
		}
		this := of(name)
		fl := func(m metric) (float64, bool) { return floor(res, workload, m) }
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s |\n",
			workload, impl, r.ns, r.cpu, r.bytes, r.allocs,
			both(of("Sessions/"+workload+"/gorilla-cookie"), this),
			both(of("Sessions/"+workload+"/scs-memstore"), this),
			both(this, fl))
	}
	for _, name := range order {
		if r := res[name]; strings.HasPrefix(name, "Sessions/floor/") {
			what := map[string]string{
				"Sessions/floor/http":  "do-nothing handler",
				"Sessions/floor/codec": "bare HMAC+base64+JSON round trip",
			}[name]
			fmt.Fprintf(w, "| floor | %s | %.0f | %.0f | %.0f | %.0f | | | |\n", what, r.ns, r.cpu, r.bytes, r.allocs)
		}
	}
}

// checkTargets prints one PASS or MISS line per target, timed by m, and
// returns the number missed. allocs adds the allocation targets.
func checkTargets(w io.Writer, res map[string]result, m metric, allocs bool) int {
	missed := 0
	check := func(ok bool, format string, args ...any) {
		verdict := "PASS"
		if !ok {
			verdict = "MISS"
			missed++
		}
		fmt.Fprintf(w, "%s  %s\n", verdict, fmt.Sprintf(format, args...))
	}
	get := func(workload, impl string) (result, bool) {
		r, ok := res["Sessions/"+workload+"/"+impl]
		return r, ok
	}
	var ours []string
	seen := map[string]bool{}
	for name := range res {
		if _, impl, ok := split(name); ok && strings.HasPrefix(impl, "ctxsession") && !seen[impl] {
			seen[impl] = true
			ours = append(ours, impl)
		}
	}
	slices.Sort(ours)

	fmt.Fprintf(w, "Targets on %s (%s of this run):\n", m.name, strings.ToLower(statName))
	// gorilla/sessions has no middleware, so its untouched row runs the
	// floor's code: the difference between the two is noise.
	if g, ok := get("untouched", "gorilla-cookie"); ok {
		if f, ok := floor(res, "untouched", m); ok && m.of(g) > 0 {
			fmt.Fprintf(w, "info  noise: gorilla-cookie/untouched runs the same code as floor/http and measured %+.0f%%\n", 100*(m.of(g)/f-1))
		}
	}
	for _, workload := range []string{"read", "write"} {
		r, ok1 := get(workload, "ctxsession-cookie")
		g, ok2 := get(workload, "gorilla-cookie")
		f, ok3 := floor(res, workload, m)
		if ok1 && ok2 {
			check(m.of(g)/m.of(r) >= 5, "%s: ctxsession-cookie %.2fx faster than gorilla/sessions (want >= 5)", workload, m.of(g)/m.of(r))
		}
		if ok1 && ok3 {
			check(m.of(r)/f <= 1.5, "%s: ctxsession-cookie at %.2fx the floor (want <= 1.5)", workload, m.of(r)/f)
		}
		if h, ok := floor(res, "untouched", m); ok1 && ok2 && ok && m.of(r) > h {
			fmt.Fprintf(w, "info  %s: above the do-nothing floor, gorilla/sessions takes %.0f ns, ctxsession-cookie %.0f ns: %.2fx\n",
				workload, m.of(g)-h, m.of(r)-h, (m.of(g)-h)/(m.of(r)-h))
		}
	}
	for _, impl := range ours {
		r, ok1 := get("untouched", impl)
		f, ok2 := floor(res, "untouched", m)
		if ok1 && ok2 {
			check(m.of(r)/f <= 1.10, "untouched: %s at %.2fx the do-nothing floor, %+.0f ns (want <= 1.10)", impl, m.of(r)/f, m.of(r)-f)
		}
	}
	for _, impl := range ours {
		if !strings.Contains(impl, "memstore") {
			continue
		}
		for _, workload := range []string{"read", "write"} {
			r, ok1 := get(workload, impl)
			s, ok2 := get(workload, "scs-memstore")
			if ok1 && ok2 {
				check(m.of(s)/m.of(r) >= 3, "%s: %s %.2fx faster than scs with its memstore (want >= 3)", workload, impl, m.of(s)/m.of(r))
			}
		}
	}
	// Allocations are the library's own: the request floor's (parsing the
	// request, the recorder) are subtracted from both sides.
	h, hok := res["Sessions/floor/http"]
	for _, impl := range ours {
		if !allocs {
			break
		}
		for _, workload := range []string{"new", "read", "write"} {
			r, ok1 := get(workload, impl)
			g, ok2 := get(workload, "gorilla-cookie")
			if ok1 && ok2 && hok {
				own, gown := r.allocs-h.allocs, g.allocs-h.allocs
				check(own*3 <= gown, "%s: %s allocates %.0f per request, gorilla/sessions %.0f (want <= a third; totals with the request floor %.0f and %.0f)",
					workload, impl, own, gown, r.allocs, g.allocs)
			}
		}
	}
	return missed
}
