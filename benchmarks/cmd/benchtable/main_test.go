package main

import (
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
cpu: Test CPU
BenchmarkSessions/floor/http-2    100  1000 ns/op  800 cpu-ns/op  500 B/op  10 allocs/op
BenchmarkSessions/floor/codec-2   100  2000 ns/op  100 B/op   5 allocs/op
BenchmarkSessions/read/ctxsession-cookie-2  100  3000 ns/op  700 B/op  14 allocs/op
BenchmarkSessions/read/gorilla-cookie-2     100 20000 ns/op  900 B/op  40 allocs/op
BenchmarkSessions/floor/http-2    100  3000 ns/op  500 B/op  10 allocs/op
BenchmarkSessions/floor/http-2    100  1100 ns/op  500 B/op  10 allocs/op
BenchmarkSessions/floor/http#01-2    100   900 ns/op  500 B/op  10 allocs/op
PASS
`

func TestParseMedians(t *testing.T) {
	res, order, header, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(header) != 2 || len(order) != 4 {
		t.Fatalf("header %q, order %q; want 2 header lines and 4 benchmarks", header, order)
	}
	h := res["Sessions/floor/http"]
	if h.n != 4 || h.ns != 1050 || h.allocs != 10 {
		t.Errorf("floor/http = %+v, want 4 runs, median 1050 ns, 10 allocs", h)
	}
	if f, ok := floor(res, "read", wall); !ok || f != 3050 {
		t.Errorf("floor(read) = %v, %v; want 3050 (http + codec)", f, ok)
	}
	if h.cpu != 800 {
		t.Errorf("floor/http cpu = %v, want 800 (the one run that reported it)", h.cpu)
	}
	if f, ok := floor(res, "untouched", wall); !ok || f != 1050 {
		t.Errorf("floor(untouched) = %v, %v; want 1050 (http only)", f, ok)
	}
}

func TestTargets(t *testing.T) {
	res, _, _, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	missed := checkTargets(&out, res, wall, true)
	// read: 20000/3000 = 6.7x (pass), 3000/3050 of the floor (pass),
	// 4 own allocations against gorilla's 30 (pass).
	if missed != 0 || strings.Count(out.String(), "PASS") != 3 {
		t.Errorf("missed %d; report:\n%s", missed, out.String())
	}
	res["Sessions/read/ctxsession-cookie"] = result{ns: 5000, allocs: 21}
	out.Reset()
	if missed := checkTargets(&out, res, wall, true); missed != 3 {
		t.Errorf("missed %d, want 3 (speed, floor, allocations); report:\n%s", missed, out.String())
	}
}
