"""Admin: client secret shown once, grant revocation action, read-only credentials."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from provider_auth.audit.models import AuditEvent
from provider_auth.oauth import tokens
from provider_auth.oauth.models import AccessToken, GrantStatus, OAuthClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    user = User.objects.create_superuser(email="admin@example.com", password="x-admin-pass-123")
    client.force_login(user)
    return client


def test_adding_a_client_shows_its_secret_once_and_stores_only_the_hash(staff: Client) -> None:
    response = staff.post(
        "/admin/oauth/oauthclient/add/",
        {
            "name": "Partner",
            "client_id": "partner",
            "redirect_uris_text": "https://partner.example/cb\n",
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["tariff:read"],
            "is_active": "on",
        },
        secure=True,
    )
    assert response.status_code == HTTPStatus.OK, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith(tokens.CLIENT_SECRET_PREFIX)
    assert secret.encode() in response.content
    client = OAuthClient.objects.get(client_id="partner")
    assert client.check_client_secret(secret)
    assert client.redirect_uris == ["https://partner.example/cb"]
    # the change page never shows it again
    change = staff.get(f"/admin/oauth/oauthclient/{client.pk}/change/", secure=True)
    assert secret.encode() not in change.content
    assert client.client_secret_hash.encode() not in change.content


def test_an_insecure_redirect_uri_is_refused_in_the_admin(staff: Client) -> None:
    response = staff.post(
        "/admin/oauth/oauthclient/add/",
        {
            "name": "Partner",
            "client_id": "partner",
            "redirect_uris_text": "http://partner.example/cb",
            "grant_types": ["authorization_code"],
            "scopes": ["tariff:read"],
        },
        secure=True,
    )
    assert response.status_code == HTTPStatus.OK
    assert not OAuthClient.objects.exists()


def test_rotating_a_secret_invalidates_the_old_one(staff: Client, make_oauth_client: Any) -> None:
    client, old_secret = make_oauth_client()
    response = staff.post(
        "/admin/oauth/oauthclient/",
        {"action": "rotate_secret", "_selected_action": [client.pk]},
        secure=True,
    )
    new_secret = response.context["secret"]
    client.refresh_from_db()
    assert client.check_client_secret(new_secret)
    assert not client.check_client_secret(old_secret)


def test_the_revoke_action_revokes_grants_with_the_admin_as_actor(
    staff: Client, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    response = staff.post(
        "/admin/oauth/grant/",
        {"action": "revoke", "_selected_action": [grant.pk]},
        secure=True,
    )
    assert response.status_code == HTTPStatus.FOUND
    grant.refresh_from_db()
    assert (grant.status, grant.revoked_reason) == (GrantStatus.REVOKED, "admin_revoked")
    event = AuditEvent.objects.get(event="grant.revoked")
    assert event.actor.email == "admin@example.com"
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()


def test_tokens_are_read_only_and_never_show_values_or_hashes(
    staff: Client, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    token = AccessToken.objects.get()
    page = staff.get(f"/admin/oauth/accesstoken/{token.pk}/change/", secure=True)
    assert page.status_code == HTTPStatus.OK
    assert issued.access_token.encode() not in page.content
    assert token.token_hash.encode() not in page.content
    assert (
        staff.get("/admin/oauth/accesstoken/add/", secure=True).status_code == HTTPStatus.FORBIDDEN
    )
    refresh_list = staff.get("/admin/oauth/refreshtoken/", secure=True)
    assert refresh_list.status_code == HTTPStatus.OK
    assert issued.refresh_token.encode() not in refresh_list.content
