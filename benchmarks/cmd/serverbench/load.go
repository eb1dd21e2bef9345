package main

// The load: a session cookie minted by the server, a check of one
// request of the workload, and wrk with its Lua script and output.

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
)

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
