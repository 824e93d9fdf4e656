#!/usr/bin/env bash
# make run: migrate, load the demo estate, then the web server, a Celery worker and beat.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
PORT="${PORT:-8000}"
BIN="${VENV:-.venv}/bin"
VAR="${CONTROLPLANE_VAR_DIR:-var}"
LOG="$VAR/log"
mkdir -p "$LOG"

$BIN/python manage.py migrate --no-input -v 0
$BIN/python manage.py seed_demo
# Apps may add their own start-up steps (signing keys, agents) as scripts/run.d/*.sh
pids=()
stopping=""
cleanup() {
  trap - INT TERM EXIT
  stopping=1
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

$BIN/python manage.py runserver "127.0.0.1:$PORT" --noreload >"$LOG/web.log" 2>&1 & pids+=($!)
$BIN/celery -A controlplane worker --loglevel=INFO --concurrency=2 >"$LOG/worker.log" 2>&1 & pids+=($!)
$BIN/celery -A controlplane beat --loglevel=INFO >"$LOG/beat.log" 2>&1 & pids+=($!)
for extra in scripts/run.d/*.sh; do
  [ -e "$extra" ] || continue
  # shellcheck source=/dev/null
  source "$extra"
done

for _ in $(seq 1 60); do
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/"; then break; fi
  sleep 1
done
cat <<TXT

  Sovereignty control plane is running: http://127.0.0.1:$PORT/
  Demo logins, password 'sovereign-demo':
    dpo-eu (DPO for eu-central, eu-west)   dpo-uk (uk-south)   dpo-us (us-east, ap-northeast)
    ml-engineer   requester   auditor   admin (superuser, /admin/)
  API docs: http://127.0.0.1:$PORT/api/docs/     Logs: $LOG/
  Press Ctrl-C to stop.

TXT
wait -n "${pids[@]}" || true
if [ -z "${stopping:-}" ]; then
  echo "A process stopped unexpectedly; see $LOG/. Stopping the rest." >&2
fi
