#!/usr/bin/env bash
# Start the demo server in the background, wait until it is ready, run `flatpeak_check` against
# it as alice, and stop the server — what CI runs after the test suite (README: Sandbox, demo
# and onboarding check).
#
#   scripts/demo-check.sh                 # port 8000, database demo.sqlite3 in a temp dir
#   DEMO_PORT=8123 scripts/demo-check.sh  # another port (keep it free)
#
# The demo settings are the Makefile's DEMO_ENV (one source of truth): `make demo-setup`
# migrates, seeds alice/bob/carol and creates FlatPeak's OAuth client for the sandbox.
set -euo pipefail

cd "$(dirname "$0")/.."
PORT="${DEMO_PORT:-8000}"
BIN="${BIN:-.venv/bin}"
WORK="$(mktemp -d)"
# A throw-away SQLite database unless the caller chose one: CI must not reuse a developer's.
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/demo.sqlite3}"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop_server EXIT

make --no-print-directory -s demo-setup DEMO_PORT="$PORT"

# The same environment as `make demo`, read from the Makefile so the two never drift apart.
DEMO_ENV="$(make --no-print-directory -s -f Makefile -f - print-demo-env DEMO_PORT="$PORT" <<'MK'
print-demo-env:
	@echo $(DEMO_ENV)
MK
)"

# --noreload: one process, so $! is the server and stopping it stops everything.
env $DEMO_ENV "$BIN/python" manage.py runserver --noreload "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "The demo server exited early:" >&2; cat "$SERVER_LOG" >&2; exit 1
  fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || {
  echo "The demo server did not become ready in 30 s:" >&2; cat "$SERVER_LOG" >&2; exit 1; }

status=0
env $DEMO_ENV "$BIN/python" manage.py flatpeak_check \
  --base-url "http://127.0.0.1:$PORT" --email alice@example.com --password alice-demo-pass \
  || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- demo server log (last 80 lines) ---" >&2
  tail -n 80 "$SERVER_LOG" >&2
fi
exit $status
