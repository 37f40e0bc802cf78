"""One-time codes reach the customer's mailbox or nobody: never standard output or a log."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import pytest
from django.core.checks import Error, Warning
from django.core.checks import run_checks as django_run_checks

from provider_auth.security import otp

PASSWORD = "correct-horse-battery"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _otp_messages() -> list[Any]:
    return [
        m
        for m in django_run_checks(include_deployment_checks=True)
        if m.id in {"provider_auth.W009", "provider_auth.E009"}
    ]


@pytest.mark.spec("ASVS 14.1.1")
@pytest.mark.django_db
def test_a_console_mail_backend_in_production_is_a_deploy_warning(settings: Any) -> None:
    settings.DEBUG = False
    settings.EMAIL_BACKEND = CONSOLE
    messages = _otp_messages()
    assert [m.id for m in messages] == ["provider_auth.W009"]
    assert isinstance(messages[0], Warning) and not isinstance(messages[0], Error)
    assert "EMAIL_URL" in messages[0].hint


@pytest.mark.django_db
def test_it_is_an_error_once_accounts_require_the_code(settings: Any, make_customer: Any) -> None:
    settings.DEBUG = False
    settings.EMAIL_BACKEND = CONSOLE
    make_customer(requires_email_otp=True)
    messages = _otp_messages()
    assert [m.id for m in messages] == ["provider_auth.E009"]
    assert isinstance(messages[0], Error)


@pytest.mark.django_db
@pytest.mark.parametrize(("debug", "backend"), [(True, CONSOLE), (False, SMTP)])
def test_a_real_mail_relay_or_the_demo_raises_nothing(
    settings: Any, debug: bool, backend: str
) -> None:
    settings.DEBUG = debug
    settings.EMAIL_BACKEND = backend
    assert _otp_messages() == []


@pytest.fixture
def known_code(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every code issued in this test is this one, so output and logs can be searched for it."""
    monkeypatch.setattr(otp, "otp_code_generate", lambda: "493817")
    return "493817"


@pytest.mark.spec("ASVS 7.1.1")
def test_with_debug_off_the_console_backend_never_prints_a_code(
    client: Any,
    make_customer: Any,
    settings: Any,
    known_code: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DEBUG = False
    settings.EMAIL_BACKEND = CONSOLE
    user = make_customer(password=PASSWORD, requires_email_otp=True)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/account/login/", {"username": user.email, "password": PASSWORD})
        assert response.status_code == HTTPStatus.SEE_OTHER
        client.post("/account/security/one-time-code/resend/")
    out = capsys.readouterr()
    assert known_code not in out.out + out.err
    assert all(known_code not in r.getMessage() for r in caplog.records)
    assert any("one-time code not sent" in r.getMessage() for r in caplog.records)


@pytest.mark.spec("ASVS 7.1.1")
def test_no_code_reaches_a_log_record_at_any_level(
    client: Any,
    make_customer: Any,
    settings: Any,
    mailoutbox: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = make_customer(password=PASSWORD, requires_email_otp=True)
    codes: list[str] = []
    with caplog.at_level(logging.DEBUG):
        client.post("/account/login/", {"username": user.email, "password": PASSWORD})
        codes.append(re.findall(r"\b\d{6}\b", mailoutbox[-1].body)[0])
        client.post("/account/security/one-time-code/", {"code": "000000"})
        client.post("/account/security/one-time-code/resend/")
        codes.append(re.findall(r"\b\d{6}\b", mailoutbox[-1].body)[0])
        client.post("/account/security/one-time-code/", {"code": codes[-1]})
    assert "_auth_user_id" in client.session
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for code in codes:
        assert code not in text
