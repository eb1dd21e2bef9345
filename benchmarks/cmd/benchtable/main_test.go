package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleOutput = `goos: linux
cpu: Test CPU
BenchmarkSessions/floor=http-2    100  1000 ns/op  800 cpu-ns/op  500 B/op  10 allocs/op
BenchmarkSessions/session=3key/floor=codec-2   100  2000 ns/op  100 B/op   5 allocs/op
BenchmarkSessions/session=3key/op=read/impl=ctxsession-cookie-2  100  3000 ns/op  700 B/op  14 allocs/op
BenchmarkSessions/session=3key/op=read/impl=gorilla-cookie-2     100 20000 ns/op  900 B/op  40 allocs/op
BenchmarkSessions/session=3key/op=untouched/impl=ctxsession-cookie-2  100  1200 ns/op  700 B/op  12 allocs/op
BenchmarkSessions/floor=http-2    100  3000 ns/op  500 B/op  10 allocs/op
BenchmarkSessions/floor=http-2    100  1100 ns/op  500 B/op  10 allocs/op
BenchmarkSessions/floor=http#01-2    100   900 ns/op  500 B/op  10 allocs/op
BenchmarkLean/floor=http-2    100   100 ns/op  1 B/op  1 allocs/op
BenchmarkLean/session=cart/op=read/impl=ctxsession-cookie-2    100   900 ns/op  1 B/op  1 allocs/op
PASS
`

func TestParseMedians(t *testing.T) {
	tb, header, err := parse(strings.NewReader(sampleOutput))
	require.NoError(t, err)
	assert.Len(t, header, 2)
	assert.Len(t, tb.order, 7)
	assert.Equal(t, []string{"3key", "cart"}, tb.sessions)
	h := tb.res["Sessions/floor=http"]
	assert.Equal(t, 4, h.n)
	assert.Equal(t, 1050.0, h.ns, "median")
	assert.Equal(t, 800.0, h.cpu, "the one run that reported it")
	f, ok := tb.floor("Sessions", "3key", "read", wall)
	assert.True(t, ok)
	assert.Equal(t, 3050.0, f, "http + codec")
	f, ok = tb.floor("Sessions", "3key", "untouched", wall)
	assert.True(t, ok)
	assert.Equal(t, 1050.0, f, "http only")
	_, ok = tb.floor("Lean", "cart", "read", wall)
	assert.False(t, ok, "no codec floor for the cart session")
	assert.True(t, tb.has("Lean", "cart"))
	assert.False(t, tb.has("Lean", "3key"))
}

func TestTargets(t *testing.T) {
	tb, _, err := parse(strings.NewReader(sampleOutput))
	require.NoError(t, err)
	var out strings.Builder
	// read: 20000/3000 = 6.7x; untouched 1200/1050 = 1.14x the floor.
	missed := tb.checkTargets(&out, wall, true)
	assert.Zero(t, missed, out.String())
	assert.Equal(t, 2, strings.Count(out.String(), "HELD"), out.String())
	assert.Contains(t, out.String(), "read: ctxsession-cookie 4, gorilla-cookie 30")

	tb.res["Sessions/session=3key/op=read/impl=ctxsession-cookie"] = result{ns: 5000}
	tb.res["Sessions/session=3key/op=untouched/impl=ctxsession-cookie"] = result{ns: 1400}
	out.Reset()
	assert.Equal(t, 2, tb.checkTargets(&out, wall, true), "read 4x and untouched 1.33x missed:\n%s", out.String())
}

func TestTable(t *testing.T) {
	tb, _, err := parse(strings.NewReader(sampleOutput))
	require.NoError(t, err)
	var out strings.Builder
	tb.printTable(&out, "Sessions", "3key")
	assert.Contains(t, out.String(), "| read | ctxsession-cookie | 3000 | 0 | 700 | 14 | 6.67 | – | 0.98 |")
	assert.Contains(t, out.String(), "| floor | do-nothing handler | 1050 |")
}
