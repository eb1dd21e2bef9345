#!/usr/bin/env bash
# Runs every benchmark of this module side by side in one `go test` run and
# prints a markdown table of medians (ns/op, B/op, allocs/op), the ratios to
# gorilla/sessions, to scs and to the floor, and the performance targets.
#
#   benchmarks/run.sh            # -count 10, about a second per benchmark
#   benchmarks/run.sh -short     # quick: -count 3 -benchtime 100ms
#   COUNT=20 BENCHTIME=2s benchmarks/run.sh
#   STAT=min benchmarks/run.sh   # least disturbed run instead of the median
#
# The raw `go test` output is kept in $OUT (default bench.out, in this
# directory) so that benchstat or another tool can read it too.
set -euo pipefail
cd "$(dirname "$0")"
COUNT="${COUNT:-10}"
BENCHTIME="${BENCHTIME:-1s}"
OUT="${OUT:-bench.out}"
STRICT=""
for arg in "$@"; do
  case "$arg" in
    -short) COUNT=3; BENCHTIME=100ms ;;
    -strict) STRICT=-strict ;;
    *) echo "usage: $0 [-short] [-strict]" >&2; exit 2 ;;
  esac
done
go test -run '^$' -bench . -benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee "$OUT" >&2
go run ./cmd/benchtable -stat "${STAT:-median}" $STRICT < "$OUT"
