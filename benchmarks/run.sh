#!/usr/bin/env bash
# Runs the three measurements of this module and prints their tables:
#   1. every benchmark side by side in one `go test` run (httptest and lean
#      harnesses), rendered by cmd/benchtable with the targets;
#   2. cmd/serverbench: a real net/http server pinned to one CPU under wrk
#      (installs the Debian package wrk when it is missing);
#   3. cmd/roundtrips: store round trips per operation.
#
#   benchmarks/run.sh                # -count 5 -benchtime 200ms, 3 rounds of 3 s; about 15 minutes
#   benchmarks/run.sh -short         # quick look: -count 3 -benchtime 50ms, 1 round of 1 s
#   benchmarks/run.sh -bench-only    # the go test benchmarks only
#   COUNT=10 BENCHTIME=1s ROUNDS=5 DURATION=5s benchmarks/run.sh
#   STAT=min benchmarks/run.sh       # least disturbed run instead of the median
#   benchmarks/run.sh -strict        # exit status 1 when a go test target is missed
#
# The raw `go test` output is kept in $OUT (default bench.out, in this
# directory): benchstat reads it (`benchstat -col /impl bench.out`).
set -euo pipefail
cd "$(dirname "$0")"
COUNT="${COUNT:-5}"
BENCHTIME="${BENCHTIME:-200ms}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-3s}"
OUT="${OUT:-bench.out}"
STRICT=""
ONLY=""
for arg in "$@"; do
  case "$arg" in
    -short) COUNT=3; BENCHTIME=50ms; ROUNDS=1; DURATION=1s ;;
    -strict) STRICT=-strict ;;
    -bench-only) ONLY=bench ;;
    *) echo "usage: $0 [-short] [-strict] [-bench-only]" >&2; exit 2 ;;
  esac
done
go test -run '^$' -bench . -benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee "$OUT" >&2
go run ./cmd/benchtable -stat "${STAT:-median}" $STRICT < "$OUT"
[ "$ONLY" = bench ] && exit 0

if ! command -v wrk >/dev/null; then
  echo "run.sh: installing wrk (apt-get install wrk)" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    sudo apt-get install -y wrk >/dev/null 2>&1 || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
  fi
fi
echo
go run ./cmd/serverbench -rounds "$ROUNDS" -d "$DURATION"
echo
go run ./cmd/roundtrips
