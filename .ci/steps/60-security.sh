#!/usr/bin/env bash
# Security step: every fuzz target of every module, as `go test -list`
# finds them, runs for a fixed number of executions (one at a time; the seed corpora under testdata/fuzz
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

# The targets that must exist, wherever they live: a missing one is a
# failure, not a skip.
required=(FuzzFormatDecode FuzzMiddlewareHeader FuzzConfig FuzzFileStoreID FuzzJSON FuzzDecodeCookie FuzzJWTHeader)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Every module holding code (the tools module holds none).
modules=$(find . -name go.mod -not -path './.git/*' -not -path './tools/*' -exec dirname {} \; | sort)

# Every fuzz target, as "module package target" lines: go test -list prints
# a package's matching names, then its "ok" line naming the package.
: >"$work/targets"
for mod in $modules; do
  (cd "$mod" && go test -list '^Fuzz' ./...) >"$work/list" 2>&1 || {
    cat "$work/list"
    echo "60-security: go test -list failed in $mod" >&2
    exit 1
  }
  awk -v mod="$mod" '
    /^Fuzz/ { names[n++] = $1; next }
    /^ok[ \t]/ { for (i = 0; i < n; i++) print mod, $2, names[i]; n = 0 }
  ' "$work/list" >>"$work/targets"
done

for want in "${required[@]}"; do
  if ! grep -qE " $want\$" "$work/targets"; then
    echo "60-security: fuzz target $want not found" >&2
    exit 1
  fi
done

while read -r mod pkg name; do
  budget=$FUZZTIME
  case "$pkg" in */filestore) budget=$FUZZTIME_IO ;; esac
  echo "-- fuzz $name ($pkg, $budget)"
  (cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" "$pkg") </dev/null >"$work/fuzz.log" 2>&1 || {
    cat "$work/fuzz.log"
    echo "60-security: $name failed (a crashing input is saved under testdata/fuzz/$name in $pkg's directory)" >&2
    exit 1
  }
  tail -n 1 "$work/fuzz.log"
done <"$work/targets"

# staticcheck is built once from the tools module (not in go.work, hence
# GOWORK=off) and run in each module that holds code, tools excepted.
(cd tools && GOWORK=off go build -o "$work/staticcheck" honnef.co/go/tools/cmd/staticcheck)
echo "-- staticcheck $("$work/staticcheck" -version)"
for mod in $modules; do
  echo "-- staticcheck $mod"
  (cd "$mod" && "$work/staticcheck" ./...)
done
echo "60-security: ok"
