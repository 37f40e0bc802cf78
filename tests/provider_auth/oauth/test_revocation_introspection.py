"""POST /oauth/revoke (RFC 7009), POST /oauth/introspect (RFC 7662), and the metadata document."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from provider_auth.oauth.models import AccessToken, Grant, GrantStatus, RefreshToken
from provider_auth.oauth.services import grant_revoke

from .conftest import basic

pytestmark = pytest.mark.django_db


def post(client: Any, path: str, data: dict[str, str], auth: Any) -> Any:
    return client.post(
        path, data, HTTP_AUTHORIZATION=basic(auth[0].client_id, auth[1]), secure=True
    )


# --- revocation ----------------------------------------------------------------------------
@pytest.mark.spec("RFC7009 2.1")
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_revokes_the_whole_grant(
    client: Any, flatpeak: Any, active_tokens: Any, which: str
) -> None:
    grant, issued = active_tokens()
    response = post(client, "/oauth/revoke", {"token": getattr(issued, which)}, flatpeak)
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    grant.refresh_from_db()
    assert (grant.status, grant.revoked_reason) == (GrantStatus.REVOKED, "client_revoked")
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    tariff = client.get(
        "/api/v1/tariff", HTTP_AUTHORIZATION=f"Bearer {issued.access_token}", secure=True
    )
    assert tariff.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.spec("RFC7009 2.1")
def test_a_wrong_hint_still_finds_the_token(client: Any, flatpeak: Any, active_tokens: Any) -> None:
    grant, issued = active_tokens()
    response = post(
        client,
        "/oauth/revoke",
        {"token": issued.access_token, "token_type_hint": "refresh_token"},
        flatpeak,
    )
    assert response.status_code == HTTPStatus.OK
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED


@pytest.mark.spec("RFC7009 2.2")
def test_revoking_an_unknown_token_answers_200(client: Any, flatpeak: Any) -> None:
    assert post(client, "/oauth/revoke", {"token": "lat_nope"}, flatpeak).status_code == 200


@pytest.mark.spec("RFC7009 2.1")
def test_a_client_cannot_revoke_another_clients_token(
    client: Any, make_oauth_client: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    other = make_oauth_client(client_id="other")
    response = post(client, "/oauth/revoke", {"token": issued.refresh_token}, other)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


@pytest.mark.spec("RFC7009 2.1")
def test_revocation_requires_client_authentication(client: Any, active_tokens: Any) -> None:
    grant, issued = active_tokens()
    response = client.post("/oauth/revoke", {"token": issued.access_token}, secure=True)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


@pytest.mark.spec("RFC7009 2.2.1")
def test_an_unsupported_hint_is_refused(client: Any, flatpeak: Any, active_tokens: Any) -> None:
    _grant, issued = active_tokens()
    response = post(
        client,
        "/oauth/revoke",
        {"token": issued.access_token, "token_type_hint": "id_token"},
        flatpeak,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unsupported_token_type"


def test_revocation_by_the_customer_locks_out_refresh(
    client: Any, flatpeak: Any, active_tokens: Any, token_post: Any
) -> None:
    grant, issued = active_tokens()
    grant_revoke(grant=grant, reason="customer_revoked", actor=grant.customer)
    response = token_post(
        {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
        auth=(flatpeak[0].client_id, flatpeak[1]),
    )
    assert response.json()["error"] == "invalid_grant"


# --- introspection -------------------------------------------------------------------------
@pytest.mark.spec("RFC7662 2.2")
def test_an_active_access_token_is_introspected(
    client: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    response = post(client, "/oauth/introspect", {"token": issued.access_token}, flatpeak)
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == "flatpeak"
    assert body["scope"] == "address:read contract:read tariff:read"  # grant_issue's default
    assert body["token_type"] == "Bearer"
    assert body["iss"] == settings.PUBLIC_BASE_URL
    assert body["premise_reference"] == grant.premise.reference
    assert body["exp"] - body["iat"] == 3600


@pytest.mark.spec("RFC7662 2.2")
def test_an_active_refresh_token_is_introspected(
    client: Any, flatpeak: Any, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    body = post(client, "/oauth/introspect", {"token": issued.refresh_token}, flatpeak).json()
    assert body["active"] is True
    assert "token_type" not in body


@pytest.mark.spec("RFC7662 2.2")
def test_expired_revoked_rotated_and_unknown_tokens_are_inactive(
    client: Any, flatpeak: Any, active_tokens: Any, token_post: Any
) -> None:
    _grant, issued = active_tokens()
    AccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert post(client, "/oauth/introspect", {"token": issued.access_token}, flatpeak).json() == {
        "active": False
    }
    token_post(
        {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
        auth=(flatpeak[0].client_id, flatpeak[1]),
    )
    rotated = post(client, "/oauth/introspect", {"token": issued.refresh_token}, flatpeak).json()
    assert rotated == {"active": False}
    assert post(client, "/oauth/introspect", {"token": "lat_x"}, flatpeak).json() == {
        "active": False
    }
    grant_two, issued_two = active_tokens()
    grant_revoke(grant=grant_two, reason="customer_revoked")
    revoked = post(client, "/oauth/introspect", {"token": issued_two.access_token}, flatpeak)
    assert revoked.json() == {"active": False}


def test_a_pending_grants_token_is_inactive(client: Any, flatpeak: Any, active_tokens: Any) -> None:
    _grant, issued = active_tokens(pending=True)
    body = post(client, "/oauth/introspect", {"token": issued.access_token}, flatpeak).json()
    assert body == {"active": False}


@pytest.mark.spec("RFC7662 4")
def test_another_clients_token_is_reported_inactive(
    client: Any, make_oauth_client: Any, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    other = make_oauth_client(client_id="other")
    body = post(client, "/oauth/introspect", {"token": issued.access_token}, other).json()
    assert body == {"active": False}


@pytest.mark.spec("RFC7662 2.1")
def test_introspection_requires_client_authentication(client: Any, active_tokens: Any) -> None:
    _grant, issued = active_tokens()
    response = client.post("/oauth/introspect", {"token": issued.access_token}, secure=True)
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_missing_token_parameter_is_invalid_request(client: Any, flatpeak: Any) -> None:
    response = post(client, "/oauth/introspect", {}, flatpeak)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


# --- metadata ------------------------------------------------------------------------------
@pytest.mark.spec("RFC8414 3")
@override_settings(PUBLIC_BASE_URL="https://auth.provider.example")
def test_metadata_lists_absolute_endpoints_and_capabilities(client: Any) -> None:
    response = client.get("/.well-known/oauth-authorization-server", secure=True)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["issuer"] == "https://auth.provider.example"
    assert body["token_endpoint"] == "https://auth.provider.example/oauth/token"
    assert body["authorization_endpoint"] == "https://auth.provider.example/oauth/authorize"
    assert body["revocation_endpoint"] == "https://auth.provider.example/oauth/revoke"
    assert body["introspection_endpoint"] == "https://auth.provider.example/oauth/introspect"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert set(body["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    # Authlib's RFC 8414 validator agrees it is well-formed.
    AuthorizationServerMetadata(body).validate()


@pytest.mark.spec("RFC8414 3")
@override_settings(PUBLIC_BASE_URL="https://auth.provider.example")
def test_every_advertised_endpoint_exists(client: Any) -> None:
    body = client.get("/.well-known/oauth-authorization-server", secure=True).json()
    for key in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        path = body[key].removeprefix("https://auth.provider.example")
        assert client.post(path, {}, secure=True).status_code != HTTPStatus.NOT_FOUND
    authorize = body["authorization_endpoint"].removeprefix("https://auth.provider.example")
    assert client.get(authorize, secure=True).status_code == HTTPStatus.BAD_REQUEST


def test_grants_survive_a_failed_revocation_attempt(client: Any, flatpeak: Any) -> None:
    assert post(client, "/oauth/revoke", {}, flatpeak).status_code == HTTPStatus.BAD_REQUEST
    assert not Grant.objects.exists()
