"""The rate limits sit on the endpoints they protect (the OAuth endpoints, the authentication
URI), as decorators on those views."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

TOKEN_URL = "/oauth/token"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.spec("RFC6819 4.4.1.11")
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_oauth_endpoints_are_limited_per_ip(path: str, db: None, settings: Any) -> None:
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 3
    api = Client()
    statuses = [
        api.post(path, {"grant_type": "refresh_token"}, REMOTE_ADDR="198.51.100.9", secure=True)
        for _ in range(4)
    ]
    assert all(r.status_code != HTTPStatus.TOO_MANY_REQUESTS for r in statuses[:3])
    limited = statuses[3]
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(limited["Retry-After"]) >= 1
    body = json.loads(limited.content)
    assert (body["object"], body["type"], body["code"]) == ("error", "rate_limit", "rate_limit")
    other_ip = api.post(path, {}, REMOTE_ADDR="198.51.100.10", secure=True)
    assert other_ip.status_code != HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.spec("RFC6819 4.4.1.11")
def test_the_token_endpoint_is_limited_per_authenticated_client_whatever_the_ip(
    db: None, settings: Any, make_oauth_client: Any
) -> None:
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 3
    _, secret = make_oauth_client(client_id="flatpeak")
    api = Client()

    def refresh(ip: str, auth: str) -> int:
        return api.post(
            TOKEN_URL,
            {"grant_type": "refresh_token", "refresh_token": "x"},
            HTTP_AUTHORIZATION=auth,
            REMOTE_ADDR=ip,
            secure=True,
        ).status_code

    # Someone spoofing FlatPeak's public client_id from many addresses spends nothing of it.
    for n in range(1, 6):
        assert refresh(f"192.0.2.{n}", _basic("flatpeak", "wrong-secret")) != 429
    statuses = [refresh(f"203.0.113.{n}", _basic("flatpeak", secret)) for n in range(1, 5)]
    assert [s == HTTPStatus.TOO_MANY_REQUESTS for s in statuses] == [False, False, False, True]


@pytest.mark.spec("RFC6819 4.4.1.11")
def test_the_authentication_uri_is_limited_per_ip_with_a_friendly_page(
    db: None, settings: Any
) -> None:
    settings.RATE_LIMIT_AUTH_URI_PER_MINUTE = 2
    browser = Client()
    url = "/flatpeak/auth?connect_token=not-a-token"
    first = [browser.get(url, REMOTE_ADDR="192.0.2.20", secure=True) for _ in range(2)]
    assert all(r.status_code == HTTPStatus.BAD_REQUEST for r in first)  # invalid token page
    limited = browser.get(url, REMOTE_ADDR="192.0.2.20", secure=True)
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert limited["Content-Type"].startswith("text/html")
    assert "Too many requests" in limited.content.decode()
    assert limited["Retry-After"]


@pytest.mark.spec("RFC6819 4.4.1.11")
@pytest.mark.parametrize(
    "body",
    [
        "grant_type=client_credentials",  # Authlib refuses it before authenticating the client
        "grant_type=refresh_token&refresh_token=x&refresh_token=y",  # refused before Authlib
    ],
)
def test_requests_refused_before_client_authentication_still_count_for_their_client(
    db: None, settings: Any, make_oauth_client: Any, body: str
) -> None:
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 2
    _, secret = make_oauth_client(client_id="flatpeak")
    api = Client()
    statuses = [
        api.post(
            TOKEN_URL,
            body,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=_basic("flatpeak", secret),
            REMOTE_ADDR=f"203.0.113.{n}",
            secure=True,
        ).status_code
        for n in range(1, 4)
    ]
    assert statuses[:2] == [HTTPStatus.BAD_REQUEST] * 2
    assert statuses[2] == HTTPStatus.TOO_MANY_REQUESTS
