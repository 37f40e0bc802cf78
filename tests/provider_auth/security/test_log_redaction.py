"""No secret reaches a log line: unit cases for the filter, and a full flow whose logs are grepped."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import Direction
from provider_auth.oauth import tokens
from provider_auth.security.redaction import RedactingFilter, redact
from tests.provider_auth.connect.conftest import (
    API,
    PASSWORD,
    TOKEN,
    Browser,
    FakeFlatPeak,
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer lat_abcdefghijklmnopqrstuvwxyz0123", "lat_abcdefghij"),
        ("{'HTTP_AUTHORIZATION': 'Basic YWNjOnNrX3Rlc3Q='}", "YWNjOnNrX3Rlc3Q="),
        ('{"refresh_token": "lrt_abcdefghijklmnopqrstuvwxyz"}', "lrt_abcdefghij"),
        ("grant_type=refresh_token&refresh_token=opaque-value-123", "opaque-value-123"),
        ("client_secret=lcs_0123456789abcdefghijklmn", "lcs_0123456789"),
        ("password=hunter2hunter2&username=a@b.c", "hunter2hunter2"),
        ("code=123456", "123456"),
        ("code_verifier=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "abcdefghijklmnop"),
        ("csrfmiddlewaretoken=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
        ("upstream said Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_the_filter_masks_secrets_in_every_shape(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_connect_tokens_are_shortened_not_lost() -> None:
    assert redact(f"GET /flatpeak/auth?connect_token={TOKEN}") == (
        "GET /flatpeak/auth?connect_token=cot_…a97"
    )


def test_harmless_fields_stay_readable() -> None:
    text = "status_code=400 token_type=Bearer error_code=invalid_grant expires_in=3600"
    assert redact(text) == text


def test_configured_secret_values_are_masked_wherever_they_appear(settings: Any) -> None:
    settings.FLATPEAK_API_KEY = "sk_live_very_secret_value"
    assert "sk_live_very_secret_value" not in redact("auth failed for sk_live_very_secret_value")


def test_exception_text_and_extra_fields_are_redacted() -> None:
    record_filter = RedactingFilter()
    try:
        raise ValueError("bad refresh_token=lrt_abcdefghijklmnopqrstuvwxyz")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("a",), None)
        record.exc_info = sys.exc_info()
    record.body = {"access_token": "lat_abcdefghijklmnopqrstuvwxyz0123"}
    record_filter.filter(record)
    assert "lrt_abcdefghij" not in record.exc_text
    assert "lat_abcdefghij" not in str(record.body)


# --- The full flow ---------------------------------------------------------------------------
@pytest.fixture
def captured_logs(settings: Any) -> Iterator[io.StringIO]:
    """Everything the configured handlers write (with their filters), at DEBUG, SQL included."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers = [h for h in root.handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    assert handlers, "the LOGGING config lost the redacting handler"
    saved = [(h, h.stream, h.level) for h in handlers if isinstance(h, logging.StreamHandler)]
    loggers = [root, *(logging.getLogger(n) for n in ("django", "django.request", "axes"))]
    levels = [(lg, lg.level) for lg in loggers]
    for handler, _, _ in saved:
        handler.setStream(buffer)
        handler.setLevel(logging.DEBUG)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    sql = logging.getLogger("django.db.backends")
    sql_level = sql.level
    sql.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    try:
        yield buffer
    finally:
        connection.force_debug_cursor = False
        sql.setLevel(sql_level)
        for handler, stream, level in saved:
            handler.setStream(stream)
            handler.setLevel(level)
        for lg, level in levels:
            lg.setLevel(level)


def _flatpeak_settings(settings: Any) -> None:
    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key_for_the_log_test"
    # Tries, not the clock, keep failure tests quick: the deadline bounds the whole call,
    # so a tight one would also cut short a healthy answer on a loaded machine.
    settings.FLATPEAK_MAX_ATTEMPTS = 2
    settings.FLATPEAK_RETRY_DEADLINE = 3
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com"]
    settings.PUBLIC_BASE_URL = "https://auth.provider.example"


@pytest.mark.spec("ASVS 7.1.1")
@pytest.mark.spec("RFC6819 5.1.4.1.3")
def test_a_full_flow_logs_and_stores_no_token_password_code_or_secret(
    settings: Any,
    captured_logs: io.StringIO,
    make_customer: Any,
    make_premise: Any,
    make_contract: Any,
    make_oauth_client: Any,
) -> None:
    _flatpeak_settings(settings)
    client_obj, client_secret = make_oauth_client(client_id="flatpeak", name="FlatPeak")
    customer = make_customer(email="ada@example.com", password=PASSWORD, requires_email_otp=True)
    premise = make_premise(customer=customer, reference="PRM-000123")
    make_contract(premise=premise, direction=Direction.IMPORT)
    secrets: list[str] = [TOKEN, PASSWORD, client_secret, "sk_test_key_for_the_log_test"]

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        flatpeak = FakeFlatPeak(mock)
        flatpeak.context()
        flatpeak.acknowledge()
        browser = Browser(REMOTE_ADDR="203.0.113.9")
        page = browser.open()
        # A wrong password first (failure paths log too), then the right one and the code.
        browser.log_in(page, "ada@example.com", "wrong-password-attempt")
        secrets.append("wrong-password-attempt")
        page = browser.open()
        response = browser.log_in(page, "ada@example.com")
        assert response.status_code == HTTPStatus.SEE_OTHER
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        secrets.append(code)
        otp_page = browser.get(response["Location"])
        response = browser.post("/account/security/one-time-code/", {"code": code})
        assert response.status_code == HTTPStatus.SEE_OTHER, otp_page.content[:300]
        consent = browser.get(response["Location"])
        while "decide" not in consent.content.decode():  # e.g. the address step
            consent = browser.get(browser.step_url)
            break
        response = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
        assert response.status_code == HTTPStatus.SEE_OTHER
        (body,) = flatpeak.submitted_bodies()
    access, refresh = body["auth_data"]["access_token"], body["auth_data"]["refresh_token"]
    secrets += [access, refresh]

    api = Client()
    basic = "Basic " + base64.b64encode(f"flatpeak:{client_secret}".encode()).decode()
    tariff = api.get("/api/v1/tariff", HTTP_AUTHORIZATION=f"Bearer {access}", secure=True)
    assert tariff.status_code == HTTPStatus.OK
    rotated = api.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": refresh}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic,
        secure=True,
    )
    assert rotated.status_code == HTTPStatus.OK
    new = rotated.json()
    secrets += [new["access_token"], new["refresh_token"]]
    # Reuse of the rotated refresh token (an attack, logged loudly) and a bad bearer.
    api.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": refresh}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic,
        secure=True,
    )
    api.get("/api/v1/tariff", HTTP_AUTHORIZATION=f"Bearer {access}x", secure=True)
    api.post(
        "/oauth/revoke",
        urlencode({"token": new["refresh_token"]}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic,
        secure=True,
    )

    logs = captured_logs.getvalue()
    assert len(logs) > 1000, "the flow should have produced plenty of log lines"
    assert "SELECT" in logs  # SQL with parameters was captured too
    leaked = [s for s in secrets if s in logs]
    assert leaked == [], f"secrets found in logs: {[s[:8] + '…' for s in leaked]}"
    assert base64.b64encode(f"flatpeak:{client_secret}".encode()).decode() not in logs

    # Stored only as hashes: no plaintext in any table, sessions decoded.
    stored = _database_text()
    in_db = [s for s in secrets if s != TOKEN and s in stored]
    assert in_db == [], f"plaintext secrets stored: {[s[:8] + '…' for s in in_db]}"
    assert tokens.secret_hash(access) in stored  # what is stored instead


def _database_text() -> str:
    from django.apps import apps
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core import serializers

    parts = [
        serializers.serialize("json", model._default_manager.all())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    ]
    parts += [repr(SessionStore().decode(s.session_data)) for s in Session.objects.all()]
    return "\n".join(parts)


# --- Access logs outside Django --------------------------------------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]


@pytest.mark.spec("ASVS 7.1.1")
def test_gunicorns_access_log_has_the_path_but_no_query_string_or_credentials() -> None:
    import ast

    # Read the setting without executing the file (it sets up Prometheus' multiprocess dir).
    tree = ast.parse((ROOT / "deploy" / "gunicorn.conf.py").read_text())
    (fmt,) = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "access_log_format" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    assert "%(U)s" in fmt  # path only
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "{authorization}i", "{cookie}i"):
        assert leaky not in fmt.lower(), leaky


@pytest.mark.spec("ASVS 7.1.1")
def test_nginx_logs_the_path_only_and_no_referer() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    log_formats = re.findall(r"log_format\s+\w+[^;]*;", conf, flags=re.S)
    assert log_formats, "nginx.conf should define its own access log format"
    for fmt in log_formats:
        assert "$uri" in fmt
        for leaky in (
            "$request ",
            '$request"',
            "$request_uri",
            "$args",
            "$query_string",
            "$http_referer",
            "$http_authorization",
            "$http_cookie",
        ):
            assert leaky not in fmt, leaky
    for line in re.findall(r"^\s*access_log\s+[^;]+;", conf, flags=re.M):
        assert "off" in line or "noquery" in line, line
