from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import structlog
from django.test import Client
from django.urls import path

from provider_auth.ops.logging import JsonFormatter


@pytest.fixture
def read_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Reads the JSON lines written so far by the real handler configured in settings.LOGGING."""
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)
    )
    buffer = io.StringIO()
    old_stream = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    handler.setStream(old_stream)  # type: ignore[attr-defined]


def _chatty_view(request: Any) -> Any:
    from django.http import HttpResponse

    structlog.get_logger("provider_auth.test").info("structlog line", premise="PRM-1")
    logging.getLogger("provider_auth.test").warning("stdlib line %s", "x")
    return HttpResponse("ok")


urlpatterns = [path("chatty", _chatty_view)]


@pytest.mark.urls(__name__)
def test_every_line_of_a_request_carries_its_request_id(
    read_log: Callable[[], list[dict[str, Any]]],
) -> None:
    response = Client().get("/chatty", secure=True, HTTP_X_REQUEST_ID="lb-req-12345678")
    assert response.status_code == HTTPStatus.OK
    assert response["X-Request-ID"] == "lb-req-12345678"
    ours = [line for line in read_log() if line.get("logger") == "provider_auth.test"]
    assert [line["event"] for line in ours] == ["structlog line", "stdlib line x"]
    assert {line["request_id"] for line in ours} == {"lb-req-12345678"}
    assert ours[0]["premise"] == "PRM-1"
    assert {"time", "level"} <= set(ours[0])


@pytest.mark.urls(__name__)
def test_an_unsafe_request_id_is_replaced_by_a_generated_one() -> None:
    response = Client().get("/chatty", secure=True, HTTP_X_REQUEST_ID='bad id"\n{json}')
    assert response["X-Request-ID"] != 'bad id"\n{json}'
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.spec("ASVS 7.1.1")
def test_secrets_are_redacted_from_structlog_fields_messages_and_tracebacks(
    read_log: Callable[[], list[dict[str, Any]]],
) -> None:
    log = structlog.get_logger("provider_auth.test")
    log.info("token issued", header="Authorization: Bearer lat_" + "a" * 30)
    logging.getLogger("provider_auth.test").info("refresh_token=lrt_%s", "b" * 30)
    try:
        raise ValueError("client_secret=lcs_" + "c" * 30)
    except ValueError:
        log.exception("boom")
    lines = read_log()
    text = json.dumps(lines)
    assert "a" * 30 not in text and "b" * 30 not in text and "c" * 30 not in text
    assert "[REDACTED]" in text
    boom = next(line for line in lines if line["event"] == "boom")
    assert "ValueError" in boom["exception"]


def test_a_reserved_field_name_does_not_crash_logging(
    read_log: Callable[[], list[dict[str, Any]]],
) -> None:
    structlog.get_logger("provider_auth.test").info("odd", name="x", message="y")
    line = next(line for line in read_log() if line["event"] == "odd")
    assert line["name_"] == "x" and line["message_"] == "y"


def _failing_view(request: Any) -> Any:
    from django.http import HttpResponseNotFound

    return HttpResponseNotFound("no")


urlpatterns.append(path("missing", _failing_view))


@pytest.mark.urls(__name__)
def test_djangos_own_response_log_line_carries_the_request_id(
    read_log: Callable[[], list[dict[str, Any]]],
) -> None:
    Client().get("/missing", secure=True, HTTP_X_REQUEST_ID="lb-req-87654321")
    line = next(line for line in read_log() if line.get("logger") == "django.request")
    assert line["request_id"] == "lb-req-87654321"
    assert line["status_code"] == HTTPStatus.NOT_FOUND
    # After the response is closed, lines are no longer attributed to that request.
    logging.getLogger("provider_auth.test").warning("between requests")
    between = next(line for line in read_log() if line["event"] == "between requests")
    assert between["request_id"] == "-"
