#!/usr/bin/env bash
# Validate the deployment files as far as this machine allows (no container engine here):
#   gunicorn --check-config, nginx -t with a throwaway certificate, the compose file parsed and
#   checked, the Dockerfile and systemd units sanity-checked, then the app really served by
#   gunicorn with deploy/gunicorn.conf.py and production settings, probed over HTTP.
# Usage: deploy/validate.sh   (DATABASE_URL unset → a throwaway SQLite database)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GUNICORN=${GUNICORN:-.venv/bin/gunicorn}
WORK=$(mktemp -d)
GUNICORN_PID=""
cleanup() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then kill "$GUNICORN_PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

# Production-like settings for the checks below (nothing here is a real secret).
export DEBUG=false
export SECRET_KEY="validate-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=localhost
export PUBLIC_BASE_URL=https://localhost
export FLATPEAK_API_URL=https://api.flatpeak.example FLATPEAK_ACCOUNT_ID=acc_validate
export FLATPEAK_API_KEY=sk_validate_not_real METRICS_TOKEN=validate-metrics-token-0123456789
export DATABASE_URL=${DATABASE_URL:-sqlite:///$WORK/db.sqlite3}
export LOG_FORMAT=json PROMETHEUS_MULTIPROC_DIR="$WORK/metrics"
unset SANDBOX_ENABLED

echo "== gunicorn --check-config"
"$GUNICORN" --check-config -c deploy/gunicorn.conf.py provider_auth.wsgi
ok "gunicorn config loads and the WSGI app imports"

echo "== nginx -t (Debian nginx, throwaway self-signed certificate)"
if ! command -v nginx >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  else
    fail "nginx is not installed (apt-get install nginx)"
  fi
fi
mkdir -p "$WORK/nginx"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$WORK/nginx/privkey.pem" -out "$WORK/nginx/fullchain.pem" 2>/dev/null
# Only the certificate paths and the upstream host (a compose service name) are swapped.
sed -e "s#/etc/nginx/certs/#$WORK/nginx/#g" -e "s#server app:8000;#server 127.0.0.1:8000;#" \
  deploy/nginx.conf > "$WORK/nginx/nginx.conf"
nginx -t -q -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g "pid $WORK/nginx/nginx.pid;"
grep -q 'log_format noquery' deploy/nginx.conf && ! grep -Eq '\$request_uri|\$args|\$query_string|\$request"' \
  <(grep -A6 'log_format' deploy/nginx.conf) || fail "nginx log format must not include query strings"
awk '/location \/admin\/ \{/,/\}/' deploy/nginx.conf | grep -q 'deny all;' \
  || fail "nginx must restrict /admin/ to the provider's networks (allow …; deny all;)"
ok "nginx.conf is valid; its log format drops query strings; /admin/ is network-restricted"

echo "== docker-compose.yml, Dockerfile, systemd units"
"$PY" - <<'PYEOF'
import re
import sys

import yaml

compose = yaml.safe_load(open("deploy/docker-compose.yml"))
services = compose["services"]
problems = []
for name in ("app", "db", "redis", "nginx", "migrate"):
    if name not in services:
        problems.append(f"compose: service {name!r} missing")
app = services.get("app", {})
if "ports" in app:
    problems.append("compose: app must not publish ports (only nginx is exposed)")
if services.get("migrate", {}).get("command", [])[-2:] != ["migrate", "--noinput"]:
    problems.append("compose: migrate service must run `manage.py migrate --noinput`")
if app.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
    problems.append("compose: app must start after migrations completed")
for name in ("db", "redis"):
    if "healthcheck" not in services.get(name, {}):
        problems.append(f"compose: {name} needs a healthcheck")

docker = open("deploy/Dockerfile").read()
instructions = [l.strip() for l in docker.splitlines() if l.strip() and not l.lstrip().startswith("#")]
froms = [l for l in instructions if l.upper().startswith("FROM ")]
if len(froms) < 2:
    problems.append("Dockerfile: must be multi-stage (two or more FROM)")
if not any("slim" in l for l in froms[-1:]):
    problems.append("Dockerfile: the runtime stage should be a slim image")
users = [l.split()[1] for l in instructions if l.upper().startswith("USER ")]
if not users or users[-1].split(":")[0] in {"root", "0"}:
    problems.append("Dockerfile: must end running as a non-root USER")
if not any(l.upper().startswith("HEALTHCHECK ") for l in instructions):
    problems.append("Dockerfile: HEALTHCHECK missing")
if "collectstatic" not in docker:
    problems.append("Dockerfile: collectstatic must run at build time")
cmd = next((l for l in reversed(instructions) if l.upper().startswith("CMD ")), "")
if "migrate" in cmd or "gunicorn.conf.py" not in cmd:
    problems.append("Dockerfile: CMD must start gunicorn with deploy/gunicorn.conf.py, not migrate")

alerts = yaml.safe_load(open("deploy/prometheus-alerts.yml"))
metric_names = {"fp_connect_flow_outcomes_total", "fp_flatpeak_api_call_seconds",
                "fp_oauth_token_events_total", "fp_tariff_api_request_seconds"}
for group in alerts["groups"]:
    for rule in group["rules"]:
        if not {"alert", "expr"} <= set(rule):
            problems.append(f"alerts: rule without alert/expr: {rule}")
        for name in re.findall(r"\bfp_[a-z_]+", rule.get("expr", "")):
            base = re.sub(r"_(count|bucket|sum)$", "", name)
            if base not in metric_names:
                problems.append(f"alerts: {rule.get('alert')} uses unknown metric {name}")

unit = open("deploy/provider-auth.service").read()
for key in ("User=", "ExecStart=", "ExecReload=", "NoNewPrivileges=true", "ProtectSystem=strict"):
    if key not in unit:
        problems.append(f"systemd unit: {key} missing")
if re.search(r"^User=root$", unit, re.M):
    problems.append("systemd unit: must not run as root")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify --man=no deploy/provider-auth.service 2>&1 | grep -v -E "not found|Failed to|No such" || true
fi
ok "compose file parses; Dockerfile multi-stage, non-root, HEALTHCHECK; systemd units sane; alert rules use our metrics"

echo "== serve with gunicorn and deploy/gunicorn.conf.py"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
PORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
GUNICORN_BIND=127.0.0.1:$PORT GUNICORN_WORKERS=2 "$GUNICORN" -c deploy/gunicorn.conf.py \
  provider_auth.wsgi >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 1 50); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$GUNICORN_PID" 2>/dev/null || { cat "$WORK/gunicorn.log"; fail "gunicorn exited"; }
  sleep 0.2
done
curl -fsS "$BASE/healthz" | grep -q '"status": "ok"' || fail "/healthz"
ok "/healthz 200 by IP over plain HTTP"
curl -fsS "$BASE/readyz" | grep -q '"status": "ready"' || { curl -sS "$BASE/readyz"; fail "/readyz"; }
ok "/readyz 200 (database, migrations, cache, FlatPeak settings)"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' -H 'X-Forwarded-Proto: https' \
  "$BASE/.well-known/oauth-authorization-server?probe=querysecret123")
[ "$status" = 200 ] || fail "metadata document answered $status"
ok "an application page is served with production settings (static manifest, HTTPS via proxy header)"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 203.0.113.5' "$BASE/metrics")" = 401 ] \
  || fail "/metrics must refuse a proxied request without the token"
curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" "$BASE/metrics" >/dev/null || fail "/metrics with token"
ok "/metrics refuses without the token, serves with it"
kill -TERM "$GUNICORN_PID"
for _ in $(seq 1 100); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GUNICORN_PID" 2>/dev/null && fail "gunicorn did not stop on SIGTERM within 10 s"
GUNICORN_PID=""
grep -q '"logger": "gunicorn.access"' "$WORK/gunicorn.log" || { cat "$WORK/gunicorn.log"; fail "no JSON access log"; }
grep -q 'querysecret123' "$WORK/gunicorn.log" && fail "a query string reached the access log"
grep -q '"path": "/healthz"' "$WORK/gunicorn.log" && fail "probes must not be access-logged"
"$PY" -c "import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]" "$WORK/gunicorn.log" \
  || fail "a log line is not valid JSON"
ok "JSON access log without query strings and without probe noise; graceful stop on SIGTERM"
echo "deploy/validate.sh: all checks passed"
