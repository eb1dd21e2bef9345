#!/usr/bin/env bash
# Source checks over the whole repository, every module included: gofmt
# must have nothing to say.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "-- gofmt -l ."
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  echo "10-source: the files above are not gofmt-formatted" >&2
  exit 1
fi
