from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from provider_auth.audit.models import AuditEvent

PAGE = "/account/connected-apps/"
_real_time = time.time


def _logged_in(client: Any, make_customer: Any) -> Any:
    user = make_customer()
    client.force_login(user)
    assert client.get(PAGE).status_code == HTTPStatus.OK
    return user


def _advance(monkeypatch: Any, seconds: float) -> None:
    later = _real_time() + seconds
    monkeypatch.setattr("provider_auth.security.session.time.time", lambda: later)


@pytest.mark.spec("ASVS 3.3.2")
def test_a_session_idle_longer_than_the_idle_timeout_ends(
    client: Any, make_customer: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.SESSION_IDLE_SECONDS = 1800
    user = _logged_in(client, make_customer)
    _advance(monkeypatch, 1801)
    response = client.get(PAGE)
    assert response.status_code == HTTPStatus.FOUND  # to the login page
    assert "/account/login/" in response["Location"]
    assert AuditEvent.objects.filter(event="session.ended", customer=user).exists()


def test_activity_within_the_idle_timeout_keeps_the_session(
    client: Any, make_customer: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.SESSION_IDLE_SECONDS = 1800
    _logged_in(client, make_customer)
    _advance(monkeypatch, 1700)
    assert client.get(PAGE).status_code == HTTPStatus.OK
    _advance(monkeypatch, 1700 + 1700)  # 1700 s after the last request
    assert client.get(PAGE).status_code == HTTPStatus.OK


@pytest.mark.spec("ASVS 3.3.1")
def test_no_session_outlives_the_absolute_timeout_however_active(
    client: Any, make_customer: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.SESSION_IDLE_SECONDS = 1800
    settings.SESSION_COOKIE_AGE = 3 * 1800
    _logged_in(client, make_customer)
    for step in range(1, 4):
        _advance(monkeypatch, step * 1700)
        assert client.get(PAGE).status_code == HTTPStatus.OK
    _advance(monkeypatch, 3 * 1800 + 1)
    assert client.get(PAGE).status_code == HTTPStatus.FOUND


@pytest.mark.spec("ASVS 3.3.4")
def test_log_out_everywhere_ends_sessions_on_other_devices(make_customer: Any) -> None:
    from tests.clients import HttpsClient

    user = make_customer(password="correct-horse-battery")
    phone, laptop = HttpsClient(), HttpsClient()
    phone.force_login(user)
    laptop.force_login(user)
    assert phone.get(PAGE).status_code == laptop.get(PAGE).status_code == HTTPStatus.OK
    response = laptop.post("/account/security/log-out-everywhere/")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert phone.get(PAGE).status_code == HTTPStatus.FOUND
    assert laptop.get(PAGE).status_code == HTTPStatus.FOUND
    # A fresh login afterwards works normally.
    phone.force_login(user)
    assert phone.get(PAGE).status_code == HTTPStatus.OK


def test_log_out_everywhere_needs_a_csrf_token(make_customer: Any) -> None:
    user = make_customer()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/account/security/log-out-everywhere/", secure=True)
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.spec("ASVS 3.2.1")
def test_logging_in_gives_a_new_session_key(client: Any, make_customer: Any) -> None:
    user = make_customer(password="correct-horse-battery")
    client.get("/account/login/")
    session = client.session
    session["anonymous"] = True
    session.save()
    before = session.session_key
    response = client.post(
        "/account/login/", {"username": user.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert client.session.session_key != before
