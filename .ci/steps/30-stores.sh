#!/usr/bin/env bash
# Server-side stores: the redisstore module (its own go.mod) against the
# real Redis on 127.0.0.1:6379, plus its own redis-server instances for the
# stop/restart and pause tests. The root module's go test already covers
# memstore, filestore and sessionstest. A missing Redis fails this step.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

(cd redisstore && go vet ./... && go test -race -count=1 -timeout 170s ./...)
# The load-test program must keep building (it is run by hand, see
# docs/stores.md).
(cd benchmarks && go build -o /dev/null ./cmd/loadrun)
