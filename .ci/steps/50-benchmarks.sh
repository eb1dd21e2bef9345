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
# Every workload ran for every implementation, and the floors ran (the
# http floor twice).
want=$(( 4 * $(grep -c "^BenchmarkSessions/new/" "$out") + 3 ))
got=$(grep -c '^BenchmarkSessions/' "$out")
if [ "$got" -ne "$want" ] || [ "$want" -lt 19 ]; then
  echo "50-benchmarks: $got benchmark results, want $want (at least 19)" >&2
  exit 1
fi
