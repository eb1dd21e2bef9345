package main

// The report: the markdown tables of the rounds, their medians and the
// targets.

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
)

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
