"""HTTP semantics of the API: HEAD, 304s a real cache can use, 405 and 404 in the error shape."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import requests
import requests_cache
from django.test import Client
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"
RATES = "/api/v1/tariff/rates"
RATES_QUERY = {"start_time": "2026-06-01T00:00:00Z", "end_time": "2026-06-02T00:00:00Z"}
METADATA = "/.well-known/oauth-authorization-server"
OPENAPI = "/api/openapi.json"
# The live server speaks http on loopback; production sits behind a TLS proxy that says so.
PROXY = {"X-Forwarded-Proto": "https"}
# Differ between any two requests by design.
PER_REQUEST_HEADERS = {"x-request-id", "date"}


def assert_error_shape(response: Any, status: HTTPStatus, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "object": "error",
        "type": "invalid_request",
        "code": code,
        "message": body["message"],
    }
    assert body["message"]
    return body


def headers_of(response: Any) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in PER_REQUEST_HEADERS
    }


@pytest.fixture
def endpoints(access_token: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """Every GET endpoint under /api/ and /.well-known/: (path, query, headers)."""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    return [
        (TARIFF, {}, bearer),
        (TARIFF, {"format": "flatpeak"}, bearer),
        (RATES, RATES_QUERY, bearer),
        (TARIFF, {}, {}),  # an error answer (401) too
        (METADATA, {}, {}),
        (OPENAPI, {}, {}),
    ]


# --- HEAD ----------------------------------------------------------------------------------
@pytest.mark.spec("RFC9110 9.3.2")
def test_head_answers_like_get_without_a_body_wherever_get_works(
    client: Client, endpoints: list[tuple[str, dict[str, str], dict[str, str]]]
) -> None:
    for path, query, headers in endpoints:
        get = client.get(path, query, secure=True, **headers)
        head = client.head(path, query, secure=True, **headers)
        assert get.status_code != HTTPStatus.METHOD_NOT_ALLOWED, path
        assert head.status_code == get.status_code, (path, head.content)
        assert headers_of(head) == headers_of(get), path
        assert head.content == b""


@pytest.mark.spec("RFC9110 9.3.2")
def test_head_with_if_none_match_answers_304(client: Client, access_token: str) -> None:
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    etag = client.get(TARIFF, secure=True, **bearer)["ETag"]
    head = client.head(TARIFF, secure=True, HTTP_IF_NONE_MATCH=etag, **bearer)
    assert head.status_code == HTTPStatus.NOT_MODIFIED
    assert head["ETag"] == etag


@pytest.mark.spec("RFC9110 9.3.2")
@pytest.mark.django_db(transaction=True)
def test_head_over_real_http_sends_the_get_headers_and_no_body(
    live_server: Any, access_token: str
) -> None:
    headers = {**PROXY, "Authorization": f"Bearer {access_token}"}
    for path in (TARIFF, METADATA, OPENAPI):
        get = requests.get(live_server.url + path, headers=headers, timeout=10)
        head = requests.head(live_server.url + path, headers=headers, timeout=10)
        assert head.status_code == get.status_code == HTTPStatus.OK, path
        assert head.content == b""
        for name in ("Content-Type", "Cache-Control", "ETag", "Vary"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)


class RecordingAdapter(HTTPAdapter):
    """What went over the wire, under the cache: (status, If-None-Match sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, str]] = []

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, *args, **kwargs)
        self.seen.append((response.status_code, request.headers.get("If-None-Match", "")))
        return response


# --- 304 -----------------------------------------------------------------------------------
@pytest.mark.spec("RFC9110 15.4.5")
@pytest.mark.parametrize(("path", "query"), [(TARIFF, {}), (RATES, RATES_QUERY)])
def test_a_304_carries_the_validators_of_the_200_and_no_content_headers_of_its_own(
    client: Client, access_token: str, path: str, query: dict[str, str]
) -> None:
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    ok = client.get(path, query, secure=True, **bearer)
    assert ok.status_code == HTTPStatus.OK
    not_modified = client.get(path, query, secure=True, HTTP_IF_NONE_MATCH=ok["ETag"], **bearer)
    assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
    for name in ("ETag", "Cache-Control", "Vary"):
        assert not_modified[name] == ok[name], name
    assert "Content-Type" not in not_modified
    assert not_modified.get("Content-Length", ok["Content-Length"]) == ok["Content-Length"]
    assert not_modified.content == b""


@pytest.mark.spec("RFC9110 15.4.5")
@pytest.mark.parametrize(("path", "query"), [(TARIFF, {}), (RATES, RATES_QUERY)])
@pytest.mark.django_db(transaction=True)
def test_requests_cache_revalidates_with_a_304_and_keeps_the_json_body(
    live_server: Any, access_token: str, path: str, query: dict[str, str]
) -> None:
    # A real HTTP cache we did not write: honours no-cache, revalidates with If-None-Match and
    # merges the 304's headers into the stored 200.
    session = requests_cache.CachedSession(backend="memory", cache_control=True)
    session.headers.update({**PROXY, "Authorization": f"Bearer {access_token}"})
    wire = RecordingAdapter()
    session.mount("http://", wire)
    url = live_server.url + path
    first = session.get(url, params=query, timeout=10)
    assert first.status_code == HTTPStatus.OK
    assert not first.from_cache
    second = session.get(url, params=query, timeout=10)
    # the wire saw a conditional request answered 304 ...
    assert wire.seen[-1] == (HTTPStatus.NOT_MODIFIED, first.headers["ETag"])
    # ... and the client hands back the stored JSON, still JSON
    assert second.from_cache
    assert second.status_code == HTTPStatus.OK
    assert second.headers["Content-Type"] == "application/json"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.json() == first.json()
    assert second.content == first.content


# --- other methods and unknown paths -------------------------------------------------------
OTHER_METHODS = ["post", "put", "patch", "delete", "options"]


@pytest.mark.spec("RFC9110 15.5.6")
@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_are_405_with_allow_and_a_json_error_before_any_csrf_check(
    access_token: str, make_customer: Any, method: str
) -> None:
    # A browser-like client: CSRF enforced, a session cookie, no CSRF token.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_customer(email="someone@example.com"))
    for path in (TARIFF, RATES, METADATA, OPENAPI):
        response = getattr(browser, method)(
            path, secure=True, HTTP_AUTHORIZATION=f"Bearer {access_token}"
        )
        assert_error_shape(response, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")
        assert response["Allow"] == "GET, HEAD"
        assert not response.cookies


@pytest.mark.parametrize(
    "path",
    ["/api/", "/api/v2/tariff", "/api/v1/tariff/", "/api/v1/tariff/rates/x", "/api/openapi.yaml"],
)
@pytest.mark.parametrize("method", ["get", "head", "post", "delete"])
def test_unknown_api_paths_are_a_json_404(path: str, method: str) -> None:
    response = getattr(Client(enforce_csrf_checks=True), method)(path, secure=True)
    if method == "head":
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response["Content-Type"] == "application/json"
        return
    assert_error_shape(response, HTTPStatus.NOT_FOUND, "not_found")


def test_forms_with_cookies_keep_their_csrf_check() -> None:
    refused = Client(enforce_csrf_checks=True).post(
        "/account/login/", {"username": "a@example.com", "password": "x"}, secure=True
    )
    assert refused.status_code == HTTPStatus.FORBIDDEN


# --- one rate-limit code -------------------------------------------------------------------
def test_every_429_says_rate_limit(
    client: Client, access_token: str, settings: Any, make_oauth_client: Callable[..., Any]
) -> None:
    settings.TARIFF_POLL_LIMIT_PER_HOUR = 1
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 1
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    polls = [client.get(TARIFF, secure=True, **bearer) for _ in range(2)]
    tokens = [
        client.post("/oauth/token", {"grant_type": "refresh_token"}, secure=True) for _ in range(2)
    ]
    for limited in (polls[-1], tokens[-1]):
        assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
        body = limited.json()
        assert (body["type"], body["code"]) == ("rate_limit", "rate_limit")
        assert int(limited["Retry-After"]) >= 1
