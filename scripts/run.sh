#!/usr/bin/env bash
# make run: migrate, load the demo estate, then the web server, a Celery worker and beat.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
# Production-like by default: no debug pages, static files through WhiteNoise, mail written as
# files under var/mail. DJANGO_DEBUG=1 make run turns Django's debug pages on.
export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
PORT="${PORT:-8000}"
BIN="${VENV:-.venv}/bin"
VAR="${CONTROLPLANE_VAR_DIR:-var}"
LOG="$VAR/log"
mkdir -p "$LOG" "$VAR/mail"
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  # A key of this checkout's own, made once and kept in var/ (never committed).
  [ -s "$VAR/secret_key" ] || (umask 077; "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$VAR/secret_key")
  export SECRET_KEY_FILE="$VAR/secret_key"
fi
if [ -z "${AUDIT_CHAIN_KEY:-}" ] && [ -z "${AUDIT_CHAIN_KEY_FILE:-}" ]; then
  # The audit chain's HMAC key: this checkout's own, kept beside the secret key, never in the
  # database (docs/configuration.md, "The audit trail").
  [ -s "$VAR/audit_chain_key" ] || (umask 077; "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$VAR/audit_chain_key")
  export AUDIT_CHAIN_KEY_FILE="$VAR/audit_chain_key"
fi
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
# Plain http on the loopback: no HTTPS redirect, cookies without the Secure flag.
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-0}" SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-0}"
export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-0}" SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
export EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-$VAR/mail}"

# Ports: the web server's comes from PORT; the demo agents listen on free ports picked now (or
# DEMO_AGENT_PORTS="p1,p2"), and learn the control plane's URL from this run, so a second copy
# of `make run` on the same machine never pushes to, or polls, the first one's processes.
port_taken() {
  "$BIN/python" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}
if port_taken "$PORT"; then
  echo "Port $PORT is already in use (by another program or another 'make run')." >&2
  echo "Choose a free port with the PORT variable, e.g.: PORT=8010 make run" >&2
  exit 1
fi
if [ -n "${DEMO_AGENT_PORTS:-}" ]; then
  for agent_port in ${DEMO_AGENT_PORTS//,/ }; do
    if port_taken "$agent_port"; then
      echo "Port $agent_port (in DEMO_AGENT_PORTS=$DEMO_AGENT_PORTS) is already in use." >&2
      echo "Change DEMO_AGENT_PORTS, or unset it to let make run pick free ports." >&2
      exit 1
    fi
  done
else
  DEMO_AGENT_PORTS="$("$BIN/python" -c 'import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(",".join(str(s.getsockname()[1]) for s in sockets))')"
fi
export DEMO_AGENT_PORTS DEMO_CONTROLPLANE_URL="http://127.0.0.1:$PORT"

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
  # Give everything ten seconds to stop cleanly (a worker finishes its task), then make sure:
  # Ctrl-C must never leave a process of this run behind.
  for _ in $(seq 1 20); do
    alive=""
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
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
    dpo-eu (DPO for eu-central, eu-west)   dpo-eu-2 (second DPO, eu-central)   dpo-uk (uk-south)
    dpo-us (us-east, ap-northeast)
    ml-engineer   requester   auditor   admin (superuser, /admin/)
  API docs: http://127.0.0.1:$PORT/api/docs/     Logs: $LOG/     Mail: $EMAIL_FILE_PATH/
  Demo agents (eu-central, us-east) listen on ports ${DEMO_AGENT_PORTS/,/ and }.
  Press Ctrl-C to stop.

TXT
wait -n "${pids[@]}" || true
if [ -z "${stopping:-}" ]; then
  echo "A process stopped unexpectedly; see $LOG/. Stopping the rest." >&2
fi
