from __future__ import annotations

import datetime as dt
import io
import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config

from provider_auth.ops.gunicorn_logging import Logger


@pytest.fixture
def access_lines(monkeypatch: pytest.MonkeyPatch) -> tuple[Logger, io.StringIO]:
    monkeypatch.setenv("LOG_FORMAT", "json")
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = Logger(cfg)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    return logger, buffer


def _access(logger: Logger, *, path: str, query: str = "", status: str = "200 OK") -> None:
    resp = SimpleNamespace(status=status, headers=[("X-Request-ID", "rid-12345678")], sent=42)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "10.0.0.9",
        "HTTP_USER_AGENT": "FlatPeak/1.0",
    }
    req = SimpleNamespace(uri=f"{path}?{query}", query=query, headers=[])
    logger.access(resp, req, environ, dt.timedelta(milliseconds=12))


def test_access_lines_are_json_with_request_id_and_no_query_string(
    access_lines: tuple[Logger, io.StringIO],
) -> None:
    logger, buffer = access_lines
    _access(logger, path="/flatpeak/auth", query="connect_token=cot_68541c4c407600f62fd98a97")
    [line] = [json.loads(x) for x in buffer.getvalue().splitlines()]
    assert line["path"] == "/flatpeak/auth"
    assert "cot_68541c4c407600f62fd98a97" not in buffer.getvalue()
    assert line["request_id"] == "rid-12345678"
    assert line["status"] == 200
    assert line["duration_ms"] == 12.0


def test_successful_probes_are_not_access_logged_but_failing_ones_are(
    access_lines: tuple[Logger, io.StringIO],
) -> None:
    logger, buffer = access_lines
    _access(logger, path="/healthz")
    _access(logger, path="/readyz", status="503 Service Unavailable")
    assert buffer.getvalue() == ""  # a 503 readiness is logged by the app, once per change
    _access(logger, path="/readyz", status="500 Internal Server Error")
    assert json.loads(buffer.getvalue())["status"] == 500
