#!/usr/bin/env bash
# The interop module (interop/, its own go.mod): the real Python peers in
# interop/testdata/peers against the library and the sessionctl command,
# in both directions. .ci/provision.sh installs the peers' packages; a
# missing interpreter or module fails the tests (they never skip), and a
# skipped test fails this step all the same.
set -euo pipefail
cd "$(dirname "$0")/../../interop"

go vet ./...
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! go test -race -count=1 -v ./... >"$log" 2>&1; then
  cat "$log"
  echo "20-interop: tests failed" >&2
  exit 1
fi
if grep -E -- '^\s*--- SKIP' "$log"; then
  echo "20-interop: a test skipped (a peer is missing?)" >&2
  exit 1
fi
grep -E '^--- PASS' "$log"
grep -E '^(ok|PASS)' "$log"
