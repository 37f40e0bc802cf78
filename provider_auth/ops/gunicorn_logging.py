"""Gunicorn's own log lines in the same shape as the application's.

deploy/gunicorn.conf.py selects this class (`logger_class`). With LOG_FORMAT=json (the
production default) the access and error logs become structlog JSON lines passed through the
same RedactingFilter as the app's logs; an access line records the path *without* its query
string (connect tokens and codes travel in query strings), the status, bytes, duration and the
X-Request-ID the app returned, so one id ties the access line to the app's lines. Probe paths
(/healthz, /readyz, /metrics) are not logged unless they crash: a load balancer calls them every few
seconds and they would drown everything else.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn import glogging

from provider_auth.ops.logging import ConsoleFormatter, JsonFormatter
from provider_auth.security.redaction import RedactingFilter, redact

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The access_log_format used with LOG_FORMAT=console: %(U)s is the path without query string.
CONSOLE_ACCESS_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'


def _json_mode() -> bool:
    default = "console" if os.environ.get("DEBUG", "").lower() in {"1", "true", "yes"} else "json"
    return os.environ.get("LOG_FORMAT", default) == "json"


class Logger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter: logging.Formatter = JsonFormatter() if _json_mode() else ConsoleFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if _json_mode() or log is self.error_log:
                    handler.setFormatter(formatter)
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status_text = str(resp.status)
        status = int(status_text.split(None, 1)[0]) if status_text[:3].isdigit() else 0
        path = environ.get("PATH_INFO", "")
        # A not-ready 503 repeats every few seconds; the app logs each change of state once.
        if path in PROBE_PATHS and (status < 500 or (path == "/readyz" and status == 503)):
            return
        if not _json_mode():
            super().access(resp, req, environ, request_time)
            return
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), "-"
        )
        duration_ms = request_time.seconds * 1000 + request_time.microseconds / 1000
        try:
            self.access_log.info(
                "request",
                extra={
                    "method": environ.get("REQUEST_METHOD", "-"),
                    "path": redact(path),
                    "status": status,
                    "bytes": getattr(resp, "sent", 0),
                    "duration_ms": round(duration_ms, 2),
                    "remote": environ.get("REMOTE_ADDR", "-"),
                    "user_agent": environ.get("HTTP_USER_AGENT", "-")[:200],
                    "request_id": request_id,
                },
            )
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.exception("access log failed")
