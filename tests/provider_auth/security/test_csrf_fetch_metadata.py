"""CSRF under `Referrer-Policy: no-referrer`: browsers send `Origin: null` on our own POSTs."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

LOGIN = "/account/login/"
SECURE = {"secure": True, "HTTP_HOST": "auth.provider.example"}


@pytest.fixture
def csrf_client(settings: Any) -> tuple[Client, str]:
    settings.ALLOWED_HOSTS = ["auth.provider.example"]
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN, **SECURE)
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


def _post(client: Client, token: str, **headers: str) -> Any:
    return client.post(
        LOGIN,
        {"csrfmiddlewaretoken": token, "username": "x@example.com", "password": "wrong-password"},
        **SECURE,
        **headers,
    )


@pytest.mark.django_db
@pytest.mark.spec("ASVS 4.2.2")
def test_a_null_origin_with_same_origin_fetch_metadata_passes_the_csrf_check(csrf_client):
    client, token = csrf_client
    response = _post(client, token, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code != HTTPStatus.FORBIDDEN  # reaches the login view (wrong password)


@pytest.mark.django_db
@pytest.mark.spec("ASVS 4.2.2")
@pytest.mark.parametrize("site", ["cross-site", "same-site", "none", None])
def test_a_null_origin_from_anywhere_else_is_refused(csrf_client, site):
    client, token = csrf_client
    headers = {"HTTP_ORIGIN": "null"}
    if site:
        headers["HTTP_SEC_FETCH_SITE"] = site
    assert _post(client, token, **headers).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.django_db
@pytest.mark.spec("ASVS 4.2.2")
def test_fetch_metadata_never_replaces_the_csrf_token(csrf_client):
    client, _token = csrf_client
    response = _post(client, "forged" * 8, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.django_db
def test_a_foreign_origin_is_refused_even_if_it_claims_same_origin_fetch_metadata(csrf_client):
    client, token = csrf_client
    response = _post(
        client, token, HTTP_ORIGIN="https://evil.example", HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
