#!/usr/bin/env bash
# Benchmarks module (benchmarks/): vet, its tests (each workload does what it
# says, for every library and session; the programs' parsers; the round-trip
# counter against a private redis-server), one short pass of every
# benchmark so they keep compiling and running, rendered through the table
# tool, the real-server program for one second per case on two libraries,
# and the round-trip counts. Timings from this step mean nothing;
# benchmarks/run.sh gives real numbers. About a minute.
set -euo pipefail
cd "$(dirname "$0")/../../benchmarks"
go vet ./...
go test -race -count=1 ./...
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench . -benchmem -benchtime 20x -count 1 . >"$out"
go run ./cmd/benchtable <"$out" >/dev/null
# Every workload ran for every implementation and session (less the ones an
# implementation refuses) in both harnesses, and the floors ran.
impls=$(grep -c '^BenchmarkSessions/session=3key/op=new/' "$out")
for group in Sessions Lean; do
  for op in new read write untouched; do
    for s in 3key cart near-limit; do
      got=$(grep -c "^Benchmark$group/session=$s/op=$op/" "$out" || true)
      want=$impls
      [ "$s" = near-limit ] && want=$(( impls - 2 )) # encrypted and gorilla-cookie refuse it
      if [ "$got" -ne "$want" ] || [ "$impls" -lt 12 ]; then
        echo "50-benchmarks: $got $group/$s/$op results, want $want ($impls implementations, at least 12)" >&2
        exit 1
      fi
    done
  done
  [ "$(grep -c "^Benchmark$group/floor=http" "$out")" -eq 2 ] || { echo "50-benchmarks: $group: the http floor did not run twice" >&2; exit 1; }
done
[ "$(grep -c '^BenchmarkSessions/session=.*/floor=codec' "$out")" -eq 3 ] || { echo "50-benchmarks: a codec floor is missing" >&2; exit 1; }

# The real server: one second per case, so that the program keeps working.
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
go run ./cmd/serverbench -rounds 1 -d 1s -warmup 0s -impls ctxsession-cookie,gorilla-cookie >/dev/null
go run ./cmd/roundtrips -n 20 >/dev/null
