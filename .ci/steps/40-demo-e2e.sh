#!/usr/bin/env bash
# The demo module (handler tests, every session mode) and the end-to-end test
# that clicks through the demo in headless Chromium. A missing browser fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "-- cmd/sessiondemo: go vet, go test -race"
(cd cmd/sessiondemo && go vet ./... && go test -race -count=1 ./...)

echo "-- e2e (Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')): go vet, go test -race"
(cd e2e && go vet ./... && go test -race -count=1 -timeout 3m ./...)
ls -l artifacts/e2e-logged-in.png artifacts/e2e-sessions.png
