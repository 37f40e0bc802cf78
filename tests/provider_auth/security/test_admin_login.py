"""Staff log in through the hardened account login; the admin's own login is no way around it."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from provider_auth.security.views import account_login

PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff(make_customer: Any) -> Any:
    return make_customer(
        email="staff@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )


def _code(mailoutbox: Any) -> str:
    match = re.search(r"\b(\d{6})\b", mailoutbox[-1].body)
    assert match
    return match.group(1)


def test_the_admin_login_page_sends_staff_to_the_account_login_with_next(
    client: Any, db: Any
) -> None:
    response = client.get("/admin/login/", {"next": "/admin/accounts/user/"})
    assert response.status_code == HTTPStatus.SEE_OTHER
    location = urlsplit(response["Location"])
    assert location.path == "/account/login/"
    assert parse_qs(location.query) == {"next": ["/admin/accounts/user/"]}


def test_an_anonymous_visit_to_the_admin_ends_at_the_account_login(client: Any, db: Any) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/account/login/?next=%2Fadmin%2F"
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/account/"])
def test_the_admin_login_only_ever_returns_into_the_admin(
    client: Any, db: Any, next_url: str
) -> None:
    response = client.get("/admin/login/", {"next": next_url})
    assert parse_qs(urlsplit(response["Location"]).query) == {"next": ["/admin/"]}


@pytest.mark.spec("ASVS 2.7.1")
def test_posting_staff_credentials_to_the_admin_login_does_not_log_in(
    client: Any, staff: Any
) -> None:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert urlsplit(response["Location"]).path == "/account/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


@pytest.mark.spec("ASVS 2.7.1")
def test_staff_with_the_emailed_code_need_it_to_reach_the_admin(
    client: Any, staff: Any, mailoutbox: Any
) -> None:
    staff.requires_email_otp = True
    staff.save()
    start = client.get("/admin/", follow=True)
    login_url = start.redirect_chain[-1][0]
    response = client.post(login_url, {"username": staff.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/security/one-time-code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == HTTPStatus.FOUND
    verified = client.post(response["Location"], {"code": _code(mailoutbox)})
    assert verified["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_staff_logins_count_against_the_per_ip_ceiling(
    client: Any, staff: Any, settings: Any
) -> None:
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(
            "/account/login/?next=/admin/", {"username": f"x{n}@example.com", "password": "w"}
        )
    response = client.post(
        "/account/login/?next=/admin/", {"username": staff.email, "password": PASSWORD}
    )
    assert response.status_code != HTTPStatus.SEE_OTHER
    assert "_auth_user_id" not in client.session


def test_a_logged_in_customer_gets_a_refusal_not_a_login_loop(
    client: Any, make_customer: Any
) -> None:
    client.force_login(make_customer())
    assert client.get("/admin/login/").status_code == HTTPStatus.FORBIDDEN


def test_logged_in_staff_go_from_the_admin_login_to_the_admin(client: Any, staff: Any) -> None:
    client.force_login(staff)
    response = client.get("/admin/login/")
    assert response["Location"] == "/admin/"


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def test_the_account_site_has_exactly_one_login_route_and_it_is_the_hardened_one() -> None:
    logins = [
        (route, view)
        for route, view in _routes(get_resolver().url_patterns)
        if route == "account/login/"
    ]
    assert len(logins) == 1
    assert logins[0][1] is account_login


def test_the_accounts_app_ships_no_login_view_of_its_own() -> None:
    from accounts import views

    assert not hasattr(views, "login_view")
