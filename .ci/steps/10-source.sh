#!/usr/bin/env bash
# Source checks over the whole repository, every module included: gofmt
# must have nothing to say, and every go.mod must be tidy.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "-- gofmt -l ."
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  echo "10-source: the files above are not gofmt-formatted" >&2
  exit 1
fi

# Every module (each go.mod, the tools module too) must be tidy: go.mod
# and go.sum as go mod tidy would write them. tidy works on one module and
# ignores go.work.
untidy=()
for mod in $(find . -name go.mod -not -path './.git/*' | sort); do
  dir=$(dirname "$mod")
  echo "-- go mod tidy -diff ($dir)"
  (cd "$dir" && GOWORK=off go mod tidy -diff 2>&1) || untidy+=("$dir")
done
if [ "${#untidy[@]}" -gt 0 ]; then
  echo "10-source: not tidy (the diffs above are what go mod tidy would change): ${untidy[*]}" >&2
  exit 1
fi
