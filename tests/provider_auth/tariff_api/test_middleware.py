"""Browser-only middleware stands aside on /api/ and nowhere else; CSRF still guards forms."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"


def test_the_api_sets_no_cookie_and_ignores_a_session_cookie(
    client: Client, access_token: str, make_customer: Any
) -> None:
    client.force_login(make_customer(email="someone@example.com"))  # a browser session cookie
    response = client.get(TARIFF, secure=True, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    assert "Accept-Language" not in response.get("Vary", "")  # no locale negotiation
    assert "Cookie" not in response.get("Vary", "")  # the session was never touched
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_api_without_a_token_still_gets_its_bearer_challenge(client: Client) -> None:
    response = client.get(TARIFF, secure=True)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="tariff"'


def test_a_post_to_the_api_is_a_json_405_not_csrfs_html_403(access_token: str) -> None:
    # The API reads no cookie, so CSRF has nothing to protect there (see tariff_api.methods).
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(TARIFF, secure=True, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["code"] == "method_not_allowed"


def test_pages_keep_sessions_locale_and_csrf(client: Client) -> None:
    response = client.get("/account/login/", secure=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == HTTPStatus.OK
    assert "Accept-Language" in response["Vary"]
    assert "csrfmiddlewaretoken" in response.content.decode()
    refused = Client(enforce_csrf_checks=True).post(
        "/account/login/", {"username": "a@example.com", "password": "x"}, secure=True
    )
    assert refused.status_code == HTTPStatus.FORBIDDEN
