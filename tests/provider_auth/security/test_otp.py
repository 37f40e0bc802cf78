from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from provider_auth.audit.models import AuditEvent
from provider_auth.security.otp import otp_challenge_start

VERIFY = "/account/security/one-time-code/"


def _code_from_mail() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


@pytest.fixture
def user(make_customer: Any) -> Any:
    """A customer whose logins need the emailed one-time code."""
    return make_customer(requires_email_otp=True)


def _start(client: Any, session_request: Any, user: Any, next_url: str = "/after", **kw: Any):
    request = session_request()
    response = otp_challenge_start(request=request, user=user, next_url=next_url, **kw)
    request.session.save()
    return response


@pytest.mark.spec("ASVS 2.7.1")
def test_starting_a_challenge_emails_six_digits_and_sends_the_browser_to_the_code_page(
    client: Any, session_request: Any, user: Any
) -> None:
    response = _start(client, session_request, user)
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == reverse("security:otp_verify") == VERIFY
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    page = client.get(VERIFY)
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "<title>One-time code" in html
    assert re.search(r'<label for="id_code">One-time code</label>', html)
    assert 'autocomplete="one-time-code"' in html
    assert "no-store" in page["Cache-Control"]
    # Not logged in before the code is verified.
    assert "_auth_user_id" not in client.session


@pytest.mark.spec("ASVS 3.2.1")
def test_the_right_code_logs_in_with_a_new_session_key_and_goes_to_next(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(client, session_request, user, next_url="/account/connected-apps/")
    key_before = client.session.session_key
    response = client.post(VERIFY, {"code": _code_from_mail()})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/connected-apps/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session.session_key != key_before
    assert AuditEvent.objects.filter(event="login.otp_verified", customer=user).exists()


def test_a_code_pasted_with_a_space_is_accepted(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(client, session_request, user)
    code = _code_from_mail()
    response = client.post(VERIFY, {"code": f" {code[:3]} {code[3:]} "})
    assert response.status_code == HTTPStatus.SEE_OTHER


@pytest.mark.spec("ASVS 2.7.6")
def test_a_code_works_only_once(client: Any, session_request: Any, user: Any) -> None:
    _start(client, session_request, user)
    code = _code_from_mail()
    assert client.post(VERIFY, {"code": code}).status_code == HTTPStatus.SEE_OTHER
    client.logout()
    again = client.post(VERIFY, {"code": code})
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in client.session


@pytest.mark.spec("ASVS 2.2.1")
def test_five_wrong_codes_burn_the_challenge_even_for_the_right_code_afterwards(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(client, session_request, user)
    code = _code_from_mail()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, 5):
        response = client.post(VERIFY, {"code": wrong})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert f"{5 - attempt} more tr" in response.content.decode()
        assert 'aria-describedby="code-error"' in response.content.decode()
    fifth = client.post(VERIFY, {"code": wrong})
    assert "too many times" in fifth.content.decode()
    assert client.post(VERIFY, {"code": code}).status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in client.session


@pytest.mark.spec("ASVS 2.7.2")
def test_a_code_expires_after_ten_minutes(
    client: Any, session_request: Any, make_customer: Any, monkeypatch: Any
) -> None:
    import time

    user = make_customer(requires_email_otp=True)
    _start(client, session_request, user)
    code = _code_from_mail()
    # The cache entry's own timeout is the expiry: move the cache's clock past 600 seconds.
    later = time.time() + 601
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: later)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in client.session


def test_the_code_lifetime_given_to_the_cache_is_ten_minutes() -> None:
    from provider_auth.security import otp

    assert otp.OTP_TTL_SECONDS == 600 and otp.OTP_MAX_ATTEMPTS == 5 and otp.OTP_DIGITS == 6


def test_next_url_that_leaves_the_site_is_replaced_by_a_local_page(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(client, session_request, user, next_url="https://evil.example/steal")
    response = client.post(VERIFY, {"code": _code_from_mail()})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"].startswith("/")
    assert not response["Location"].startswith("//")


@pytest.mark.parametrize("evil", ["//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_protocol_relative_and_script_next_urls_are_refused(evil: str) -> None:
    from provider_auth.security.otp import safe_next_path

    assert safe_next_path(evil) != evil


def test_inside_a_connect_flow_the_page_offers_cancel_as_a_post(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(
        client,
        session_request,
        user,
        cancel_url="/flatpeak/cancel",
        cancel_label="Set tariff manually",
    )
    html = client.get(VERIFY).content.decode()
    assert 'action="/flatpeak/cancel"' in html
    assert "Set tariff manually" in html


def test_without_a_connect_flow_there_is_no_cancel_control(
    client: Any, session_request: Any, user: Any
) -> None:
    _start(client, session_request, user)
    assert 'value="cancel"' not in client.get(VERIFY).content.decode()


def test_a_new_code_replaces_the_old_one(client: Any, session_request: Any, user: Any) -> None:
    _start(client, session_request, user)
    old = _code_from_mail()
    assert client.post(reverse("security:otp_resend")).status_code == HTTPStatus.SEE_OTHER
    new = _code_from_mail()
    assert len(mail.outbox) == 2
    if old != new:
        assert client.post(VERIFY, {"code": old}).status_code == HTTPStatus.BAD_REQUEST
    assert client.post(VERIFY, {"code": new}).status_code == HTTPStatus.SEE_OTHER


def test_the_code_page_without_a_challenge_is_a_clear_400(client: Any, db: None) -> None:
    response = client.get(VERIFY)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "log in again" in response.content.decode()


@pytest.mark.spec("ASVS 2.10.4")
def test_the_plain_code_is_stored_nowhere(
    client: Any, session_request: Any, make_customer: Any
) -> None:
    from django.core.cache import cache

    user = make_customer(requires_email_otp=True)
    _start(client, session_request, user)
    code = _code_from_mail()
    assert code not in repr(dict(client.session.items()))
    assert code not in repr([cache.get(k.split(":", 2)[-1]) for k in cache._cache])


@pytest.mark.spec("ASVS 2.2.1")
def test_wrong_codes_count_against_the_accounts_hourly_ceiling(
    client: Any, session_request: Any, make_customer: Any, settings: Any
) -> None:
    from provider_auth.security.login import customer_authenticate

    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    user = make_customer(requires_email_otp=True, password="correct-horse-battery")
    _start(client, session_request, user)
    code = _code_from_mail()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        client.post(VERIFY, {"code": wrong})
    # With the password right, the account is now locked for the hour.
    result = customer_authenticate(
        request=session_request(), email=user.email, password="correct-horse-battery"
    )
    assert result.locked_out
