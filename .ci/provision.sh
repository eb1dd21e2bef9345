#!/usr/bin/env bash
# Installs or starts what the tests need when it is missing. A component
# that cannot be provided fails the run: tests never skip for lack of it.
set -euo pipefail

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Redis on 127.0.0.1:6379 (server-side store tests).
if ! command -v redis-server >/dev/null; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

# PostgreSQL on 127.0.0.1:5432 (user postgres, database test, trust) and
# MariaDB on 127.0.0.1:3306 (root, no password, database test), for the
# SQL store modules. The machine's packages provide both; started here when
# they do not answer.
wait_for() { # wait_for SECONDS COMMAND...: true once COMMAND succeeds
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
command -v pg_isready >/dev/null || { echo "PostgreSQL is not installed (no pg_isready)" >&2; exit 1; }
if ! pg_up; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for 30 pg_up || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT 1' >/dev/null 2>&1; then
  createdb -h 127.0.0.1 -U postgres test
fi
psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT 1' >/dev/null

maria_up() { mysqladmin -h 127.0.0.1 -P 3306 -u root ping; }
command -v mysqladmin >/dev/null || { echo "MariaDB is not installed (no mysqladmin)" >&2; exit 1; }
if ! maria_up >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for 30 maria_up || { echo "MariaDB does not answer on 127.0.0.1:3306" >&2; exit 1; }
fi
mysql -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test'

# Python peers of the interop module. Debian's /usr/bin/python3 with
# Debian's packages (module:package pairs); the ones whose import fails are
# installed.
debian_peers=(flask:python3-flask flask_login:python3-flask-login
  itsdangerous:python3-itsdangerous starlette:python3-starlette
  uvicorn:python3-uvicorn httpx:python3-httpx jwt:python3-jwt
  cryptography:python3-cryptography django:python3-django
  requests:python3-requests)
missing=()
for pair in "${debian_peers[@]}"; do
  /usr/bin/python3 -c "import ${pair%%:*}" 2>/dev/null || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi
for pair in "${debian_peers[@]}"; do
  /usr/bin/python3 -c "import ${pair%%:*}" || { echo "/usr/bin/python3 cannot import ${pair%%:*} (${pair#*:})" >&2; exit 1; }
done
# python3 (first on PATH, the machine's Python 3.11) runs the Flask 3.1,
# itsdangerous 2.2 and encrypted-format peers: it must have them, as no
# registry here serves Python packages for it.
python3 - <<'PY' || { echo "python3 lacks Flask >= 3.1, itsdangerous >= 2.2 or cryptography" >&2; exit 1; }
from importlib.metadata import version
import cryptography, flask, itsdangerous
def at_least(name, want):
    got = tuple(int(x) for x in version(name).split(".")[:2])
    assert got >= want, f"{name} {version(name)} is older than {want}"
at_least("flask", (3, 1))
at_least("itsdangerous", (2, 2))
PY

# Chromium for the browser test.
if ! command -v chromium >/dev/null; then
  apt_install chromium
fi
chromium --version >/dev/null

# wrk for the real-server benchmark (benchmarks/cmd/serverbench).
if ! command -v wrk >/dev/null; then
  apt_install wrk
fi
command -v wrk >/dev/null
