from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_safe_response, budget, form_data, nasty_text

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


_CLIENT: dict[str, Client] = {}


def _client() -> Client:
    # One client for all examples: building one builds the middleware chain, and WhiteNoise
    # then indexes every static file (most of a request's cost).
    if "c" not in _CLIENT:
        _CLIENT["c"] = Client(raise_request_exception=False)
    _CLIENT["c"].cookies.clear()
    return _CLIENT["c"]


def _query(data: dict[str, Any]) -> str:
    return urlencode(data, doseq=True)


@pytest.mark.spec("RFC9700 4.1.1")
@budget(2000)
@given(data=form_data, raw=st.one_of(st.none(), nasty_text))
def test_the_authentication_uri_survives_any_query_string(
    flatpeak_down_or_unknown: Any, data: dict[str, Any], raw: str | None
) -> None:
    query = _query(data) if raw is None else quote(raw, safe="=&?%")
    response = _client().get(f"/flatpeak/auth?{query}", secure=True)
    assert_safe_response(response)
    if "redirect_uri" in data and response.status_code in (301, 302, 303, 307, 308):
        # A browser-supplied redirect_uri is never followed.
        assert "evil" not in response["Location"]


@pytest.mark.spec("RFC9700 4.1.1")
@budget(700)
@given(data=form_data)
def test_oauth_authorize_survives_any_query_string(
    flatpeak_down_or_unknown: Any, make_oauth_client: Any, data: dict[str, Any]
) -> None:
    from provider_auth.oauth.models import OAuthClient

    if not OAuthClient.objects.filter(client_id="partner").exists():
        make_oauth_client(client_id="partner", redirect_uris=["https://partner.example/cb"])
    response = _client().get(f"/oauth/authorize?{_query(data)}", secure=True)
    # Errors go back to the registered redirect URI only (RFC 6749 4.1.2.1), else a page.
    assert_safe_response(response, allowed_hosts=["connect.flatpeak.com", "partner.example"])


def _auth_headers(choice: int, client_id: str, secret: str, junk: str) -> dict[str, str]:
    if choice == 0:
        return {}
    if choice == 1:
        pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {pair}"}
    if choice == 2:
        return {"HTTP_AUTHORIZATION": f"Basic {junk}"}
    return {"HTTP_AUTHORIZATION": junk}


@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@budget(700)
@given(
    data=form_data,
    auth=st.integers(0, 3),
    client_id=st.one_of(st.just("flatpeak"), nasty_text),
    junk=nasty_text,
    as_json=st.booleans(),
)
def test_oauth_endpoints_answer_any_request_without_a_server_error(
    flatpeak_down_or_unknown: Any,
    make_oauth_client: Any,
    path: str,
    data: dict[str, Any],
    auth: int,
    client_id: str,
    junk: str,
    as_json: bool,
) -> None:

    headers = _auth_headers(auth, client_id, "lcs_wrong", junk.replace("\n", ""))
    client = _client()
    if as_json:
        import json

        response = client.post(
            path, json.dumps(data), content_type="application/json", secure=True, **headers
        )
    else:
        response = client.post(path, data, secure=True, **headers)
    assert_safe_response(response)
    assert response.status_code not in (HTTPStatus.OK,) or path != "/oauth/token"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")


@pytest.mark.spec("RFC6750 3.1")
@budget(1200)
@given(
    params=form_data,
    header=st.one_of(
        st.none(),
        nasty_text.map(lambda t: "Bearer " + t.replace("\n", "")),
        nasty_text.map(lambda t: t.replace("\n", "")),
    ),
    path=st.sampled_from(["/api/v1/tariff", "/api/v1/tariff/rates"]),
)
def test_the_tariff_api_answers_any_request_without_a_server_error(
    flatpeak_down_or_unknown: Any, params: dict[str, Any], header: str | None, path: str
) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = _client().get(f"{path}?{_query(params)}", secure=True, **extra)
    assert_safe_response(response)
    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.BAD_REQUEST)
