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

# Python peers: itsdangerous and Flask for python3; Starlette, httpx and PyJWT for Debian's python3.
python3 -c 'import itsdangerous, flask, cryptography' || { echo "python3 lacks itsdangerous/flask/cryptography" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import starlette, httpx, jwt, cryptography' 2>/dev/null; then
  apt_install python3-starlette python3-httpx python3-jwt python3-cryptography
fi
/usr/bin/python3 -c 'import starlette, httpx, jwt, cryptography'

# Chromium for the browser test.
if ! command -v chromium >/dev/null; then
  apt_install chromium
fi
chromium --version >/dev/null
