#!/usr/bin/env bash
# Warehouse in production mode on one machine: the HTTPS API and the HTTP pages each served
# by several uvicorn worker processes, and the control plane as a process of its own.
#
#   SECRET_KEY=... DATABASE_URL=postgres://... deploy/run-production.sh
#
# Environment (all optional but DATABASE_URL): HOST (127.0.0.1), PORT (8000, pages),
# API_PORT (6443), API_WORKERS (4), WEB_WORKERS (2), REDIS_URL, WAREHOUSE_STATE_DIR (var/),
# SEED (1: load the catalog), CONTROLPLANE (1: run it, and with it the store's housekeeping).
# A second host on the same PostgreSQL and Redis: the same SECRET_KEY, CONTROLPLANE=0,
# SEED=0 (README, "Two hosts, one store"); writes reach its watches by LISTEN/NOTIFY.
# Stops everything on SIGINT/SIGTERM, or when any one part exits.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
API_PORT=${API_PORT:-6443}
API_WORKERS=${API_WORKERS:-4}
WEB_WORKERS=${WEB_WORKERS:-2}
STATE_DIR=${WAREHOUSE_STATE_DIR:-var}

: "${DATABASE_URL:?set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/warehouse}"
export DATABASE_URL DEBUG=false DJANGO_SETTINGS_MODULE=hub.settings
export WAREHOUSE_STATE_DIR=$STATE_DIR
# Several processes must share their rate limits, so they live in Redis.
export WAREHOUSE_RATE_LIMIT_BACKEND=${WAREHOUSE_RATE_LIMIT_BACKEND:-redis}
export DB_POOL=${DB_POOL:-true} DB_POOL_MAX=${DB_POOL_MAX:-12}
# Few pipeline threads per worker: under load, more only queue for the interpreter while
# one of them holds the store's revision counter (bench/workshop_load.py --api-threads).
export WAREHOUSE_API_THREADS=${WAREHOUSE_API_THREADS:-4}
# Audit rows in batches, a twentieth of a second at most: one commit for many requests.
export WAREHOUSE_AUDIT_BATCH_SECONDS=${WAREHOUSE_AUDIT_BATCH_SECONDS:-0.05}
export WAREHOUSE_API_URL=${WAREHOUSE_API_URL:-https://$HOST:$API_PORT}

if [ -z "${SECRET_KEY:-}" ]; then
  # One key per installation, made once and kept beside the certificates.
  mkdir -p "$STATE_DIR"
  if [ ! -s "$STATE_DIR/secret_key" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$STATE_DIR/secret_key")
  fi
  SECRET_KEY=$(cat "$STATE_DIR/secret_key")
fi
export SECRET_KEY

"$PY" manage.py migrate --noinput -v0
if [ "${SEED:-1}" = 1 ]; then "$PY" manage.py seed_catalog >/dev/null; fi
"$PY" manage.py default_policy >/dev/null
"$PY" manage.py collectstatic --noinput -v0
mapfile -t CERTS < <("$PY" manage.py shell --no-imports -v0 -c "
from apiserver.server import tls
paths = tls.ensure_certificates(hosts=['$HOST'])
print(paths.server_cert)
print(paths.server_key)" | grep -E '\.(crt|key)$')

UVICORN=("$PY" -m uvicorn hub.asgi:application --host "$HOST" --lifespan off
  --no-server-header --no-access-log --timeout-graceful-shutdown 3)
pids=()
"${UVICORN[@]}" --port "$API_PORT" --workers "$API_WORKERS" \
  --ssl-certfile "${CERTS[0]}" --ssl-keyfile "${CERTS[1]}" &
pids+=($!)
"${UVICORN[@]}" --port "$PORT" --workers "$WEB_WORKERS" &
pids+=($!)
if [ "${CONTROLPLANE:-1}" = 1 ]; then
  "$PY" manage.py controlplane &
  pids+=($!)
fi

stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM
echo "Warehouse (production): pages http://$HOST:$PORT/ ($WEB_WORKERS workers)," \
  "API https://$HOST:$API_PORT ($API_WORKERS workers), control plane pid ${pids[2]:-off}"
# If any part exits, stop the rest rather than serve half the app.
wait -n "${pids[@]}" || true
stop
exit 1
