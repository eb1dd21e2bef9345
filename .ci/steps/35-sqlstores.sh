#!/usr/bin/env bash
# SQL stores: pgstore against the real PostgreSQL on 127.0.0.1:5432,
# mysqlstore against the real MariaDB on 127.0.0.1:3306 (provision.sh starts
# both), sqlitestore on temporary files. Each runs sessionstest.Run and
# RunMiddleware. A server that does not answer fails the step.
set -euo pipefail
cd "$(dirname "$0")/../.."

pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 || { echo "MariaDB is not reachable on 127.0.0.1:3306" >&2; exit 1; }

for mod in pgstore mysqlstore sqlitestore; do
  echo "-- $mod: go vet, go test -race"
  (cd "$mod" && go vet ./... && go test -race -count=1 -timeout 300s ./...)
done
