#!/usr/bin/env bash
# Serve salesmgmt on 127.0.0.1:8000 with demo data: `make run` calls this after installing.
#
# Without REDIS_URL, Celery tasks run in-process (eagerly) and `manage.py run_schedule` runs
# the beat schedule's periodic jobs.
# With REDIS_URL, tasks go through the broker, so a Celery worker and beat run in the
# background and are stopped with the server (Ctrl-C, SIGTERM or the server exiting).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-salesmgmt.settings.local}

log() { printf '\n==> %s\n' "$*"; }

log "Database: ${DATABASE_URL:-SQLite file db.sqlite3 (set DATABASE_URL for PostgreSQL)}"
"$BIN/python" manage.py migrate --noinput

log "Demo data (idempotent)"
"$BIN/python" manage.py seed_demo
# Bulk-loaded demo rows mark nothing on the refresh path: compute the dashboards' aggregates once now
# (the nightly beat job keeps them fresh afterwards).
echo "Computing forecasts, flags and KPIs for the demo..."
"$BIN/python" manage.py recompute_forecasts --all

# Each background process gets its own process group (job control), so stopping one also
# stops its children (runserver's autoreloader runs the server in a child process).
set -m
pids=()
# shellcheck disable=SC2317  # reached through the traps below
stop_all() {
    trap - INT TERM EXIT
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
# supervise NAME COMMAND...: run COMMAND again whenever it exits, as a process manager
# (docker-compose's restart policy in production) would. A worker can die on a broker
# outage (kombu's reconnect path occasionally raises); the reconcilers on beat re-enqueue
# the work it held (Redis itself redelivers it after the visibility timeout).
supervise() {
    local name=$1
    shift
    while true; do
        "$@" || echo "run.sh: $name exited (status $?); restarting in 2 s." >&2
        sleep 2
    done
}

trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

if [[ -n "${REDIS_URL:-}" ]]; then
    if [[ -z "${DATABASE_URL:-}" ]]; then
        echo "warning: REDIS_URL without DATABASE_URL: the worker shares the SQLite file." >&2
    fi
    log "Celery worker and beat (broker ${REDIS_URL})"
    supervise worker "$BIN/celery" -A salesmgmt worker --loglevel=INFO --concurrency=2 &
    pids+=("$!")
    supervise beat "$BIN/celery" -A salesmgmt beat --loglevel=INFO --schedule=.venv/celerybeat-schedule &
    pids+=("$!")
else
    log "No REDIS_URL: background tasks run in-process (no worker needed)"
    # No beat either: the periodic jobs (webhook retries, sweeps, the nightly recompute) run
    # in a small scheduler process of their own.
    # Its state file keeps the weekly and nightly jobs' last runs, as beat's schedule file does.
    supervise schedule "$BIN/python" manage.py run_schedule --state=.venv/run-schedule.json &
    pids+=("$!")
fi

log "Serving on http://${HOST}:${PORT}/ (Ctrl-C stops everything)"
"$BIN/python" manage.py runserver "${HOST}:${PORT}" &
server=$!
pids+=("$server")

# The worker and beat are restarted by supervise(); when the server ends, stop everything.
status=0
wait "$server" || status=$?
echo "run.sh: the server exited (status ${status}); stopping the others." >&2
exit "$status"
