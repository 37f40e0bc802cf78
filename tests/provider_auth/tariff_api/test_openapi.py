"""The OpenAPI document is valid, served, matches real responses, and survives schemathesis."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import jsonschema_rs
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Direction
from provider_auth.tariff_api.openapi import openapi_build

pytestmark = pytest.mark.django_db

DOCUMENT = openapi_build(base_url="http://testserver")
PROXY = {"X-Forwarded-Proto": "https", "Host": "testserver"}  # as the TLS proxy sends it


def schema_for(path: str, method: str, status: int, content: str = "application/json") -> Any:
    operation = DOCUMENT["paths"][path][method]
    schema = operation["responses"][str(status)]["content"][content]["schema"]
    return {**schema, "components": DOCUMENT["components"]}


def assert_matches(response: Any, path: str, method: str = "get") -> None:
    schema = schema_for(path, method, response.status_code)
    # jsonschema_rs: the validator schemathesis itself ships with (no extra dependency).
    jsonschema_rs.Draft202012Validator(schema).validate(response.json())


def test_the_document_is_served_and_is_valid_openapi_3_1(client: Any) -> None:
    response = client.get("/api/openapi.json", secure=True)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["openapi"] == "3.1.0"
    assert set(body["paths"]) == {
        "/api/v1/tariff",
        "/api/v1/tariff/rates",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/.well-known/oauth-authorization-server",
    }
    # schemathesis refuses invalid documents when loading
    schemathesis.openapi.from_dict(body)


def test_real_tariff_responses_match_the_document(
    api_get: Any, issue: Any, contract: Any, make_contract: Any, make_tariff: Any
) -> None:
    make_contract(
        premise=contract.premise,
        tariff=make_tariff(
            name="Tiered export",
            rules=[("00:00", "07:00", "0.0500"), ("07:00", "24:00", "0.1500")],
        ),
        direction=Direction.EXPORT,
    )
    _grant, issued = issue(directions=["IMPORT", "EXPORT"])
    token = issued.access_token
    for params in ({}, {"format": "flatpeak"}, {"direction": "EXPORT", "format": "flatpeak"}):
        response = api_get("/api/v1/tariff", token, data=params)
        assert response.status_code == HTTPStatus.OK
        assert_matches(response, "/api/v1/tariff")
    rates = api_get(
        "/api/v1/tariff/rates",
        token,
        data={"start_time": "2026-10-24T00:00:00Z", "end_time": "2026-10-27T00:00:00Z"},
    )
    assert rates.status_code == HTTPStatus.OK
    assert_matches(rates, "/api/v1/tariff/rates")


def test_real_error_responses_match_the_document(api_get: Any, access_token: str) -> None:
    cases = [
        api_get("/api/v1/tariff"),
        api_get("/api/v1/tariff", "lat_nope"),
        api_get("/api/v1/tariff", access_token, data={"direction": "EXPORT"}),
        api_get("/api/v1/tariff", access_token, data={"format": "csv"}),
        api_get("/api/v1/tariff/rates", access_token, data={"start_time": "x"}),
    ]
    assert [r.status_code for r in cases] == [401, 401, 403, 400, 400]
    for response in cases:
        assert_matches(response, "/api/v1/tariff")


def test_real_oauth_responses_match_the_document(
    client: Any, flatpeak_client: Any, issue: Any
) -> None:
    _grant, issued = issue()
    client_id, secret = flatpeak_client[0].client_id, flatpeak_client[1]
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def post(path: str, data: dict[str, str]) -> Any:
        return client.post(
            path,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=auth,
            secure=True,
        )

    token = post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": issued.refresh_token}
    )
    assert_matches(token, "/oauth/token", "post")
    body = token.json()
    introspection = post("/oauth/introspect", {"token": body["access_token"]})
    assert_matches(introspection, "/oauth/introspect", "post")
    error = post("/oauth/token", {"grant_type": "password"})
    assert error.status_code == HTTPStatus.BAD_REQUEST
    assert_matches(error, "/oauth/token", "post")
    revoked = post("/oauth/revoke", {"token": body["refresh_token"]})
    assert revoked.status_code == HTTPStatus.OK
    metadata = client.get("/.well-known/oauth-authorization-server", secure=True)
    assert_matches(metadata, "/.well-known/oauth-authorization-server")


# --- schemathesis, in-process through the WSGI application -----------------------------------
schema = schemathesis.openapi.from_dict(DOCUMENT)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    # Like Django's test client: a request must not close the test's database connection
    # (it holds the transaction every test runs in).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@override_settings(TARIFF_POLL_LIMIT_PER_HOUR=100_000)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    case: Any, wsgi_app: Any, access_token: str, flatpeak_client: Any
) -> None:
    headers = dict(PROXY)
    if case.path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {access_token}"
    elif case.path.startswith("/oauth/"):
        client_id, secret = flatpeak_client[0].client_id, flatpeak_client[1]
        headers["Authorization"] = (
            "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        )
    case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)


def test_real_405_429_and_304_responses_match_the_document(
    client: Any, api_get: Any, access_token: str, settings: Any
) -> None:
    settings.TARIFF_POLL_LIMIT_PER_HOUR = 2
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 1
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    for path in ("/api/v1/tariff", "/.well-known/oauth-authorization-server"):
        refused = client.delete(path, secure=True, **bearer)
        assert refused.status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert_matches(refused, path)
        declared = DOCUMENT["paths"][path]["get"]["responses"]["405"]["headers"]["Allow"]
        assert refused["Allow"] == declared["schema"]["const"]
        assert "head" in DOCUMENT["paths"][path]

    etag = api_get("/api/v1/tariff", access_token)["ETag"]
    not_modified = api_get("/api/v1/tariff", access_token, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
    declared_304 = DOCUMENT["paths"]["/api/v1/tariff"]["get"]["responses"]["304"]["headers"]
    assert set(declared_304) <= set(not_modified.headers)
    assert not_modified["Cache-Control"] == declared_304["Cache-Control"]["schema"]["const"]

    polled_out = api_get("/api/v1/tariff", access_token)
    assert polled_out.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert_matches(polled_out, "/api/v1/tariff")
    for _ in range(2):
        token_limited = client.post("/oauth/token", {"grant_type": "x"}, secure=True)
    assert token_limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert_matches(token_limited, "/oauth/token", "post")
