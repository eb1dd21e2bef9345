#!/usr/bin/env bash
# Benchmarks module (benchmarks/): vet, its tests (each workload does what it
# says, for every library), and one short pass of every benchmark so they
# keep compiling and running, rendered through the table tool. Timings from
# this pass mean nothing; benchmarks/run.sh gives real numbers.
set -euo pipefail
cd "$(dirname "$0")/../../benchmarks"
go vet ./...
go test -race -count=1 ./...
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench . -benchmem -benchtime 100x -count 1 . >"$out"
go run ./cmd/benchtable <"$out"
# Every workload ran for every implementation in both harnesses, and the
# floors ran (the http floor twice per harness).
n=$(grep -c '^BenchmarkSessions/new/' "$out")
for group in Sessions Lean; do
  want=$(( 4 * n + 2 ))
  [ "$group" = Sessions ] && want=$(( want + 1 )) # the codec floor
  got=$(grep -c "^Benchmark$group/" "$out")
  if [ "$got" -ne "$want" ] || [ "$n" -lt 4 ]; then
    echo "50-benchmarks: $got $group results, want $want ($n implementations, at least 4)" >&2
    exit 1
  fi
done
