"""Operational endpoints: liveness, readiness and metrics.

They are answered by `ProbeMiddleware` before host validation, sessions, HTTPS redirects, rate
limits and request logging (a load balancer probes by IP over plain HTTP every few seconds); the
URL patterns in ops/urls.py route the same views so `reverse()` and the test client work too.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from provider_auth.ops.metrics import metrics_render

logger = logging.getLogger(__name__)

# Checking the migration plan reads every migration file; a positive answer is cached briefly.
_MIGRATIONS_OK_SECONDS = 60.0
_migrations_ok_until = 0.0
_last_ready: bool | None = None
_state_lock = threading.Lock()


def probe(view):  # type: ignore[no-untyped-def]
    """Mark a view as an ops probe: no rate limit, no access-log line, no session."""
    view.ops_probe = True
    view.rate_limit_exempt = True
    return view


@probe
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing external is touched."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_migrations() -> str:
    global _migrations_ok_until
    if time.monotonic() < _migrations_ok_until:
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"pending: {len(plan)} migration(s)"
    _migrations_ok_until = time.monotonic() + _MIGRATIONS_OK_SECONDS
    return "ok"


def _check_cache() -> str:
    key = "ops:readyz:" + uuid.uuid4().hex
    cache.set(key, "1", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    return "ok" if found == "1" else "failing: value not read back"


def _check_flatpeak_settings() -> str:
    missing = [
        name
        for name in ("FLATPEAK_API_URL", "FLATPEAK_ACCOUNT_ID", "FLATPEAK_API_KEY")
        if not getattr(settings, name, "")
    ]
    return "ok" if not missing else "missing: " + ", ".join(missing)


_CHECKS = {
    "database": _check_database,
    "migrations": _check_migrations,
    "cache": _check_cache,
    "flatpeak_settings": _check_flatpeak_settings,
}


def readiness_report() -> tuple[bool, dict[str, str]]:
    """Run every readiness check; a check that raises reports a bare "failing" (the probe is
    public: exception classes name our drivers and libraries), with the detail in the log."""
    results: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", never a 500
            # The detail (host names, driver text) goes to the log, not to the probe's caller.
            logger.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            results[name] = "failing"
    return all(v == "ok" for v in results.values()), results


@probe
@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when this instance can serve traffic, 503 with the failing checks if not."""
    global _last_ready
    ready, checks = readiness_report()
    with _state_lock:
        if ready != _last_ready:
            # Log transitions only: probes come every few seconds and must not flood the logs.
            logger.log(
                logging.INFO if ready else logging.WARNING,
                "readiness changed",
                extra={"ready": ready, "checks": checks},
            )
            _last_ready = ready
    response = JsonResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )
    # Django would log every 503 probe as an error; the transition line above is enough.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not expected or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), expected.encode())


def _address_allowed(request: HttpRequest) -> bool:
    # A request relayed by a proxy arrives from the proxy's (often loopback) address: the
    # allowlist would then admit the whole internet. Through a proxy, only the token counts.
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        remote = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if remote in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


@probe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; needs `Authorization: Bearer METRICS_TOKEN` or an allowed IP."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not (_bearer_token_matches(request) or _address_allowed(request)):
        response = JsonResponse(
            {"error": "forbidden"}, status=401 if settings.METRICS_TOKEN else 403
        )
        if settings.METRICS_TOKEN:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics_render()
    return HttpResponse(body, content_type=content_type)
