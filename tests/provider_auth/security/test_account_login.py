from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.core import mail

PASSWORD = "correct-horse-battery"
LOGIN = "/account/login/"


def _post(client: Any, email: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": email, "password": password, **extra}, **{})


def test_the_account_login_logs_in_and_goes_to_a_local_next(
    client: Any, make_customer: Any
) -> None:
    user = make_customer(password=PASSWORD)
    response = _post(client, user.email, PASSWORD, next="/account/connected-apps/")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/connected-apps/"


def test_the_account_login_refuses_an_external_next(client: Any, make_customer: Any) -> None:
    user = make_customer(password=PASSWORD)
    response = _post(client, user.email, PASSWORD, next="https://evil.example/")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"].startswith("/") and "evil" not in response["Location"]


@pytest.mark.spec("ASVS 2.2.1")
def test_unknown_email_wrong_password_and_locked_account_answer_alike(
    client: Any, make_customer: Any
) -> None:
    real = make_customer(email="real@example.com", password=PASSWORD)
    locked = make_customer(email="locked@example.com", password=PASSWORD)
    for _ in range(5):
        _post(client, locked.email, "wrong")
    unknown = _post(client, "nobody@example.com", "wrong")
    wrong = _post(client, real.email, "wrong")
    is_locked = _post(client, locked.email, PASSWORD)
    assert unknown.status_code == wrong.status_code == is_locked.status_code
    assert unknown.status_code == HTTPStatus.UNAUTHORIZED
    assert "_auth_user_id" not in client.session
    # Unknown and wrong: the same message; the lockout page says so openly (unknown emails
    # lock out identically, see test_lockout).
    message = "do not match an account"
    assert message in unknown.content.decode() and message in wrong.content.decode()
    assert "Too many attempts" in is_locked.content.decode()


@pytest.mark.spec("ASVS 2.7.1")
def test_a_customer_with_the_one_time_code_switched_on_gets_the_code_step(
    client: Any, make_customer: Any
) -> None:
    user = make_customer(password=PASSWORD, requires_email_otp=True)
    response = _post(client, user.email, PASSWORD, next="/account/connected-apps/")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/security/one-time-code/"
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1


def test_the_customer_switches_the_one_time_code_on_with_their_password(
    client: Any, make_customer: Any
) -> None:
    user = make_customer(password=PASSWORD)
    client.force_login(user)
    page = client.get("/account/security/")
    assert page.status_code == HTTPStatus.OK
    refused = client.post("/account/security/", {"enabled": "on", "password": "nope"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert 'aria-describedby="password-error"' in refused.content.decode()
    user.refresh_from_db()
    assert not user.requires_email_otp
    done = client.post("/account/security/", {"enabled": "on", "password": PASSWORD})
    assert done.status_code == HTTPStatus.SEE_OTHER
    user.refresh_from_db()
    assert user.requires_email_otp


@pytest.mark.spec("ASVS 2.2.3")
def test_the_customer_is_emailed_when_the_one_time_code_setting_changes(
    client: Any, make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = make_customer(password=PASSWORD, requires_email_otp=True)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/security/", {"password": PASSWORD})  # switched off
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "no longer asks for a one-time code" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/security/", {"password": PASSWORD})  # no change: no email
    assert len(mail.outbox) == 1
