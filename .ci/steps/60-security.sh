#!/usr/bin/env bash
# Security step: every fuzz target of the root module runs for a fixed
# number of executions (one at a time; the seed corpora under testdata/fuzz
# run in the ordinary `go test` too), then staticcheck, pinned by the tool
# directive of tools/go.mod, on the root module and every side module. Any
# finding or failure fails the step.
#
# The budget is a count (-fuzztime Nx), not a duration: with a duration, Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# failure at the deadline with no failing input (golang/go#75804, fixed in
# Go 1.27). A count has no deadline to race, so every failure here is real.
set -euo pipefail
cd "$(dirname "$0")/../.."

FUZZTIME="${FUZZTIME:-30000x}"
# Targets that touch the file system run about ten times slower.
FUZZTIME_IO="${FUZZTIME_IO:-5000x}"

# The targets that must exist: a missing one is a failure, not a skip.
required=(FuzzFormatDecode FuzzMiddlewareHeader FuzzConfig FuzzFileStoreID FuzzJSON FuzzDecodeCookie)

# Every fuzz target in the root module (side modules have their own go.mod
# and are not fuzzed here): "dir target" pairs.
targets=$(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . \
  | while IFS=: read -r file line; do
      dir=$(dirname "$file")
      # Skip directories that belong to another module.
      d=$dir; skip=
      while [ "$d" != "." ]; do
        if [ -f "$d/go.mod" ]; then skip=1; break; fi
        d=$(dirname "$d")
      done
      [ -n "$skip" ] && continue
      name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
      echo "$dir $name"
    done | sort -u)

for want in "${required[@]}"; do
  if ! grep -qE " $want\$" <<<"$targets"; then
    echo "60-security: fuzz target $want not found" >&2
    exit 1
  fi
done

while read -r dir name; do
  budget=$FUZZTIME
  [ "$dir" = ./filestore ] && budget=$FUZZTIME_IO
  echo "-- fuzz $name ($dir, $budget)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" "$dir" >/tmp/fuzz-$$.log 2>&1 || {
    cat /tmp/fuzz-$$.log
    rm -f /tmp/fuzz-$$.log
    echo "60-security: $name failed (a crashing input is saved under $dir/testdata/fuzz/$name)" >&2
    exit 1
  }
  tail -n 1 /tmp/fuzz-$$.log
done <<<"$targets"
rm -f /tmp/fuzz-$$.log

# staticcheck is built once from the tools module (not in go.work, hence
# GOWORK=off) and run in each module that holds code, tools excepted.
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd tools && GOWORK=off go build -o "$bin/staticcheck" honnef.co/go/tools/cmd/staticcheck)
echo "-- staticcheck $("$bin/staticcheck" -version)"
for mod in $(find . -name go.mod -not -path './.git/*' -not -path './tools/*' | sort); do
  dir=$(dirname "$mod")
  echo "-- staticcheck $dir"
  (cd "$dir" && "$bin/staticcheck" ./...)
done
echo "60-security: ok"
