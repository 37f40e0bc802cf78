from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from provider_auth.oauth.front_door import client_rate_limit_scope, key_client
from provider_auth.security.network import client_ip
from provider_auth.security.ratelimit import (
    key_ip,
    rate_limit,
    rate_limit_hit,
    rate_limit_peek,
)


def _ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def _basic(client_id: str, secret: str = "s") -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.spec("RFC6819 4.4.1.11")
def test_requests_over_the_limit_get_429_with_retry_after_and_a_flatpeak_error_object() -> None:
    view = rate_limit(key_ip, 3, 60, scope="t1")(_ok)
    rf = RequestFactory()
    statuses = [view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code for _ in range(4)]
    assert statuses == [HTTPStatus.OK] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    response = view(rf.get("/", REMOTE_ADDR="198.51.100.1"))
    assert 1 <= int(response["Retry-After"]) <= 60
    body = json.loads(response.content)
    assert body["object"] == "error"
    assert body["type"] == "rate_limit"
    assert body["code"] == "rate_limit"
    assert body["message"]


def test_each_ip_has_its_own_budget() -> None:
    view = rate_limit(key_ip, 1, 60, scope="t2")(_ok)
    rf = RequestFactory()
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code == HTTPStatus.OK
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.2")).status_code == HTTPStatus.OK
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code == 429


def test_html_endpoints_get_a_friendly_page_not_json(db: None) -> None:
    view = rate_limit(key_ip, 0, 60, scope="t3", html=True)(_ok)
    response = view(RequestFactory().get("/", REMOTE_ADDR="198.51.100.1"))
    response.render()
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Content-Type"].startswith("text/html")
    assert b"Too many requests" in response.content
    assert response["Retry-After"]


def test_the_window_resets_after_it_ends() -> None:
    first = [rate_limit_hit(scope="t4", key="k", limit=2, window=60, now=1000.0) for _ in range(3)]
    assert [r.allowed for r in first] == [True, True, False]
    later = rate_limit_hit(scope="t4", key="k", limit=2, window=60, now=1000.0 + 60)
    assert later.allowed and later.count == 1


@override_settings(RATE_LIMIT_ENABLED=False)
def test_rate_limits_can_be_switched_off() -> None:
    view = rate_limit(key_ip, 0, 60, scope="t5")(_ok)
    assert view(RequestFactory().get("/", REMOTE_ADDR="198.51.100.1")).status_code == 200


def test_the_limit_may_be_a_callable_read_per_request() -> None:
    budget = {"n": 1}
    view = rate_limit(key_ip, lambda: budget["n"], 60, scope="t6")(_ok)
    rf = RequestFactory()
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code == 200
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code == 429
    budget["n"] = 5
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1")).status_code == 200


def test_the_client_key_is_only_given_to_a_client_that_proves_its_secret(
    make_oauth_client: Any, settings: Any
) -> None:
    """The per-client limit counts a request once the OAuth server has authenticated the
    client, under that client's key; failed or absent credentials spend nobody's budget."""
    from django.test import Client

    # The counters this test reads back live in this process's memory (not a shared Redis).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "k"}
    }
    _, secret = make_oauth_client(client_id="flatpeak")
    api = Client()
    scope = client_rate_limit_scope("introspection")

    def counted(client_id: str, **post: Any) -> int:
        data = post.pop("data", {})
        api.post("/oauth/introspect", {"token": "x", **data}, secure=True, **post)
        return rate_limit_peek(scope=scope, key=key_client(client_id), window=60)

    assert counted("flatpeak", HTTP_AUTHORIZATION=_basic("flatpeak", secret)) == 1
    form = {"client_id": "flatpeak", "client_secret": secret}
    assert counted("flatpeak", data=form) == 2
    assert counted("flatpeak", HTTP_AUTHORIZATION=_basic("flatpeak", "wrong")) == 2
    assert counted("flatpeak", data={"client_id": "flatpeak"}) == 2
    assert counted("nobody", HTTP_AUTHORIZATION=_basic("nobody", secret)) == 0
    assert counted("flatpeak", HTTP_AUTHORIZATION="Basic !!!not-base64") == 2
    api.get("/oauth/introspect", secure=True)
    assert rate_limit_peek(scope=scope, key=key_client("flatpeak"), window=60) == 2


@override_settings(AXES_IPWARE_PROXY_COUNT=0)
def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.0.0.1"


@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_with_one_trusted_proxy_the_right_most_forwarded_address_counts() -> None:
    # The left-most value is whatever the client wrote; only our proxy's entry is trusted.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    assert client_ip(request) == "203.0.113.9"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="nonsense")
    assert client_ip(garbage) == "10.0.0.1"


@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.parametrize("header", ["Basic ☃", "abc ", "Basic !!!", "Basic " + "w6k"])
def test_malformed_client_credentials_get_invalid_client_not_a_server_error(
    header: str, db: None
) -> None:
    from django.test import Client

    response = Client().post("/oauth/token", {}, secure=True, HTTP_AUTHORIZATION=header)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert json.loads(response.content)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
