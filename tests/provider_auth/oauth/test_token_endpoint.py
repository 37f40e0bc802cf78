"""POST /oauth/token: the authorization_code and refresh_token grants."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from provider_auth.oauth import tokens
from provider_auth.oauth.models import (
    AccessToken,
    AuthorizationCode,
    Grant,
    GrantStatus,
    RefreshToken,
)
from provider_auth.oauth.services import grant_activate, grant_revoke

from .conftest import REDIRECT_URI, basic, pkce_pair

pytestmark = pytest.mark.django_db


def redeem(token_post: Any, partner: Any, code: str, verifier: str, **overrides: Any) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    data.update(overrides)
    return token_post(
        {k: v for k, v in data.items() if v is not None}, auth=(partner[0].client_id, partner[1])
    )


def refresh(token_post: Any, client: Any, refresh_token: str, **extra: Any) -> Any:
    return token_post(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        auth=(client[0].client_id, client[1]),
    )


def assert_oauth_error(response: Any, status: HTTPStatus, error: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == error


# --- authorization_code ---------------------------------------------------------------------
@pytest.mark.spec("RFC6749 4.1.3")
@pytest.mark.spec("RFC6749 5.1")
def test_a_code_is_exchanged_for_tokens_and_activates_its_grant(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    response = redeem(token_post, partner, code, verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "tariff:read"
    assert body["access_token"].startswith(tokens.ACCESS_TOKEN_PREFIX)
    assert body["refresh_token"].startswith(tokens.REFRESH_TOKEN_PREFIX)
    grant = Grant.objects.get()
    assert grant.status == GrantStatus.ACTIVE
    assert AccessToken.objects.get().token_hash == tokens.secret_hash(body["access_token"])
    assert RefreshToken.objects.get().token_hash == tokens.secret_hash(body["refresh_token"])


def test_the_client_may_authenticate_with_client_secret_post(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    response = token_post(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": partner[0].client_id,
            "client_secret": partner[1],
        }
    )
    assert response.status_code == HTTPStatus.OK, response.content


@pytest.mark.spec("RFC7636 4.6")
def test_a_wrong_code_verifier_is_invalid_grant(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, _verifier = obtain_code()
    other_verifier, _ = pkce_pair()
    assert_oauth_error(
        redeem(token_post, partner, code, other_verifier), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )
    assert not AccessToken.objects.exists()


@pytest.mark.spec("RFC7636 4.4.1")
def test_a_missing_code_verifier_is_refused(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, _verifier = obtain_code()
    assert_oauth_error(
        redeem(token_post, partner, code, None), HTTPStatus.BAD_REQUEST, "invalid_request"
    )


@pytest.mark.spec("RFC6749 4.1.3")
def test_a_redirect_uri_differing_from_the_authorization_request_is_invalid_grant(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    response = redeem(
        token_post, partner, code, verifier, redirect_uri="https://partner.example/other"
    )
    assert_oauth_error(response, HTTPStatus.BAD_REQUEST, "invalid_grant")


@pytest.mark.spec("RFC6749 4.1.2")
@pytest.mark.spec("RFC9700 4.5")
def test_redeeming_a_code_twice_fails_and_revokes_the_tokens_of_the_first_redemption(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    first = redeem(token_post, partner, code, verifier)
    assert first.status_code == HTTPStatus.OK
    second = redeem(token_post, partner, code, verifier)
    assert_oauth_error(second, HTTPStatus.BAD_REQUEST, "invalid_grant")
    grant = Grant.objects.get()
    assert (grant.status, grant.revoked_reason) == (GrantStatus.REVOKED, "authorization_code_reuse")
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert_oauth_error(
        refresh(token_post, partner, first.json()["refresh_token"]),
        HTTPStatus.BAD_REQUEST,
        "invalid_grant",
    )


def test_an_expired_code_is_invalid_grant(token_post: Any, partner: Any, obtain_code: Any) -> None:
    code, verifier = obtain_code()
    AuthorizationCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_oauth_error(
        redeem(token_post, partner, code, verifier), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )


def test_a_code_issued_to_another_client_is_invalid_grant(
    token_post: Any, make_oauth_client: Any, obtain_code: Any, partner: Any
) -> None:
    code, verifier = obtain_code()
    other = make_oauth_client(client_id="other", redirect_uris=[REDIRECT_URI])
    assert_oauth_error(
        redeem(token_post, other, code, verifier), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )
    # and the code is still good for its own client
    assert redeem(token_post, partner, code, verifier).status_code == HTTPStatus.OK


@pytest.mark.spec("RFC6749 5.2")
def test_a_wrong_client_secret_is_invalid_client(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    response = redeem(token_post, (partner[0], "lcs_wrong"), code, verifier)
    assert_oauth_error(response, HTTPStatus.UNAUTHORIZED, "invalid_client")
    assert not AccessToken.objects.exists()


def test_an_inactive_client_cannot_authenticate(
    token_post: Any, partner: Any, obtain_code: Any
) -> None:
    code, verifier = obtain_code()
    partner[0].is_active = False
    partner[0].save()
    assert_oauth_error(
        redeem(token_post, partner, code, verifier), HTTPStatus.UNAUTHORIZED, "invalid_client"
    )


@pytest.mark.parametrize("header", ["Basic !!!notbase64", "Basic " + "Zm9v", "Bearer x"])
def test_a_malformed_authorization_header_is_a_clean_client_error(
    client: Any, partner: Any, header: str
) -> None:
    response = client.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": "x"},
        HTTP_AUTHORIZATION=header,
        secure=True,
    )
    assert HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("RFC9700 2.4")
@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", "urn:x"])
def test_grant_types_other_than_code_and_refresh_are_unsupported(
    token_post: Any, flatpeak: Any, grant_type: str
) -> None:
    response = token_post(
        {"grant_type": grant_type, "username": "a", "password": "b"},
        auth=(flatpeak[0].client_id, flatpeak[1]),
    )
    assert_oauth_error(response, HTTPStatus.BAD_REQUEST, "unsupported_grant_type")


def test_get_is_not_allowed_on_the_token_endpoint(client: Any) -> None:
    assert client.get("/oauth/token", secure=True).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- refresh_token -------------------------------------------------------------------------
@pytest.mark.spec("RFC6749 6")
@pytest.mark.spec("RFC9700 4.14.2")
def test_refreshing_rotates_the_refresh_token(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    response = refresh(token_post, flatpeak, issued.refresh_token)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["refresh_token"] != issued.refresh_token
    assert body["access_token"] != issued.access_token
    old = RefreshToken.objects.get(token_hash=tokens.secret_hash(issued.refresh_token))
    assert old.used_at is not None
    # the new one works in turn
    again = refresh(token_post, flatpeak, body["refresh_token"])
    assert again.status_code == HTTPStatus.OK
    grant.refresh_from_db()
    assert grant.last_used_at is not None


def test_refresh_with_client_secret_post(client: Any, flatpeak: Any, active_tokens: Any) -> None:
    _grant, issued = active_tokens()
    response = client.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": issued.refresh_token,
            "client_id": flatpeak[0].client_id,
            "client_secret": flatpeak[1],
        },
        secure=True,
    )
    assert response.status_code == HTTPStatus.OK, response.content


@pytest.mark.spec("RFC9700 4.14.2")
def test_reusing_a_rotated_refresh_token_revokes_the_whole_grant(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    rotated = refresh(token_post, flatpeak, issued.refresh_token).json()
    _rotated_long_ago(issued.refresh_token)
    replay = refresh(token_post, flatpeak, issued.refresh_token)
    assert_oauth_error(replay, HTTPStatus.BAD_REQUEST, "invalid_grant")
    grant.refresh_from_db()
    assert (grant.status, grant.revoked_reason) == (GrantStatus.REVOKED, "refresh_token_reuse")
    assert not AccessToken.objects.filter(grant=grant, revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(grant=grant, revoked_at__isnull=True).exists()
    # the legitimate holder of the newest token is locked out too
    assert_oauth_error(
        refresh(token_post, flatpeak, rotated["refresh_token"]),
        HTTPStatus.BAD_REQUEST,
        "invalid_grant",
    )


def _rotated_long_ago(refresh_token: str) -> None:
    """Move the rotation of `refresh_token` outside the grace window."""
    RefreshToken.objects.filter(token_hash=tokens.secret_hash(refresh_token)).update(
        used_at=timezone.now() - dt.timedelta(seconds=settings.OAUTH_REFRESH_GRACE_SECONDS + 1)
    )


@override_settings(OAUTH_REFRESH_GRACE_SECONDS=30)
def test_within_the_grace_period_a_rotated_token_may_be_exchanged_again(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    assert refresh(token_post, flatpeak, issued.refresh_token).status_code == HTTPStatus.OK
    assert refresh(token_post, flatpeak, issued.refresh_token).status_code == HTTPStatus.OK
    RefreshToken.objects.filter(token_hash=tokens.secret_hash(issued.refresh_token)).update(
        used_at=timezone.now() - dt.timedelta(seconds=31)
    )
    assert_oauth_error(
        refresh(token_post, flatpeak, issued.refresh_token), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED


def test_a_refresh_token_of_another_client_is_invalid_grant_and_revokes_nothing(
    token_post: Any, make_oauth_client: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    other = make_oauth_client(client_id="other")
    assert_oauth_error(
        refresh(token_post, other, issued.refresh_token), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


def test_an_unknown_refresh_token_is_invalid_grant(token_post: Any, flatpeak: Any) -> None:
    assert_oauth_error(
        refresh(token_post, flatpeak, "lrt_unknown"), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )


def test_a_missing_refresh_token_is_invalid_request(token_post: Any, flatpeak: Any) -> None:
    response = token_post(
        {"grant_type": "refresh_token"}, auth=(flatpeak[0].client_id, flatpeak[1])
    )
    assert_oauth_error(response, HTTPStatus.BAD_REQUEST, "invalid_request")


def test_tokens_of_a_pending_grant_do_not_refresh_until_it_is_activated(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens(pending=True)
    assert_oauth_error(
        refresh(token_post, flatpeak, issued.refresh_token), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )
    grant_activate(grant=grant)
    assert refresh(token_post, flatpeak, issued.refresh_token).status_code == HTTPStatus.OK


def test_tokens_of_a_revoked_grant_do_not_refresh(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    grant_revoke(grant=grant, reason="customer_revoked")
    assert_oauth_error(
        refresh(token_post, flatpeak, issued.refresh_token), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )


@pytest.mark.spec("RFC9700 4.14.2")
def test_an_idle_refresh_token_expires(token_post: Any, flatpeak: Any, active_tokens: Any) -> None:
    _grant, issued = active_tokens()
    stored = RefreshToken.objects.get()
    assert stored.expires_at - stored.created_at == dt.timedelta(days=90)
    RefreshToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_oauth_error(
        refresh(token_post, flatpeak, issued.refresh_token), HTTPStatus.BAD_REQUEST, "invalid_grant"
    )


@pytest.mark.spec("RFC9700 4.14.2")
def test_rotation_never_extends_past_the_absolute_expiry(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    assert grant.absolute_expires_at - grant.created_at == dt.timedelta(days=400)
    soon = timezone.now() + dt.timedelta(days=2)
    Grant.objects.filter(pk=grant.pk).update(absolute_expires_at=soon)
    body = refresh(token_post, flatpeak, issued.refresh_token).json()
    newest = RefreshToken.objects.get(token_hash=tokens.secret_hash(body["refresh_token"]))
    assert newest.expires_at == soon
    Grant.objects.filter(pk=grant.pk).update(absolute_expires_at=timezone.now())
    assert_oauth_error(
        refresh(token_post, flatpeak, body["refresh_token"]),
        HTTPStatus.BAD_REQUEST,
        "invalid_grant",
    )


def test_per_client_lifetimes_override_the_settings(
    token_post: Any, make_oauth_client: Any, customer_premise: Any
) -> None:
    from provider_auth.oauth.services import grant_issue

    client = make_oauth_client(access_token_seconds=600, refresh_idle_days=7)
    customer, premise = customer_premise
    _grant, issued = grant_issue(
        customer=customer, premise=premise, client=client[0], directions=["IMPORT"]
    )
    body = refresh(token_post, client, issued.refresh_token).json()
    assert body["expires_in"] == 600
    newest = RefreshToken.objects.get(token_hash=tokens.secret_hash(body["refresh_token"]))
    assert newest.expires_at - newest.created_at == dt.timedelta(days=7)


def test_a_client_without_the_refresh_grant_type_cannot_refresh(
    token_post: Any, make_oauth_client: Any, customer_premise: Any
) -> None:
    from provider_auth.oauth.services import grant_issue

    client = make_oauth_client(grant_types=["authorization_code"])
    customer, premise = customer_premise
    _grant, issued = grant_issue(
        customer=customer, premise=premise, client=client[0], directions=["IMPORT"]
    )
    assert_oauth_error(
        refresh(token_post, client, issued.refresh_token),
        HTTPStatus.BAD_REQUEST,
        "unauthorized_client",
    )


def test_a_broader_scope_on_refresh_is_invalid_scope(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    response = refresh(token_post, flatpeak, issued.refresh_token, scope="tariff:read admin")
    assert_oauth_error(response, HTTPStatus.BAD_REQUEST, "invalid_scope")


@override_settings(RATE_LIMIT_TOKEN_PER_MINUTE=2)
def test_the_token_endpoint_is_rate_limited_per_client(token_post: Any, flatpeak: Any) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": "lrt_unknown"}
    auth = (flatpeak[0].client_id, flatpeak[1])
    assert [token_post(data, auth=auth).status_code for _ in range(2)] == [400, 400]
    limited = token_post(data, auth=auth)
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(limited["Retry-After"]) >= 1


# --- what one refresh costs -------------------------------------------------------------------
def test_a_refresh_reads_the_client_once_and_the_token_once_then_writes_four_rows(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _grant, issued = active_tokens()
    with CaptureQueriesContext(connection) as queries:
        response = refresh(token_post, flatpeak, issued.refresh_token)
    assert response.status_code == HTTPStatus.OK, response.content
    transaction_control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")  # the test's own too
    statements = [
        q["sql"].strip()
        for q in queries.captured_queries
        if not q["sql"].startswith(transaction_control)
    ]
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 2, reads
    assert '"oauth_oauthclient"' in reads[0]  # per-client rate limit, reused by Authlib
    assert '"oauth_refreshtoken"' in reads[1] and '"oauth_grant"' in reads[1]
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in reads[1]
    assert sorted(s.split()[0] for s in statements if s not in reads) == [
        "INSERT",
        "INSERT",
        "UPDATE",
        "UPDATE",
    ]


def test_the_rotated_pair_is_stored_as_the_orm_would_store_it(
    token_post: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    before = timezone.now()
    body = refresh(token_post, flatpeak, issued.refresh_token).json()
    new_refresh = RefreshToken.objects.select_related("access_token").get(
        token_hash=tokens.secret_hash(body["refresh_token"])
    )
    assert new_refresh.grant_id == grant.pk
    assert new_refresh.access_token is not None
    assert new_refresh.access_token.token_hash == tokens.secret_hash(body["access_token"])
    assert new_refresh.scope == new_refresh.access_token.scope == grant.scope
    assert (new_refresh.used_at, new_refresh.revoked_at) == (None, None)
    assert new_refresh.created_at >= before
    assert new_refresh.access_token.expires_at == new_refresh.created_at + dt.timedelta(
        seconds=body["expires_in"]
    )
    old = RefreshToken.objects.get(token_hash=tokens.secret_hash(issued.refresh_token))
    grant.refresh_from_db()
    assert old.used_at == grant.last_used_at == new_refresh.created_at


@override_settings(RATE_LIMIT_ENABLED=False)
@pytest.mark.parametrize("post_auth", [False, True])
def test_without_rate_limits_authlib_authenticates_the_client_itself(
    client: Any, flatpeak: Any, active_tokens: Any, post_auth: bool
) -> None:
    _grant, issued = active_tokens()

    def send(secret: str) -> Any:
        data = {"grant_type": "refresh_token", "refresh_token": issued.refresh_token}
        if post_auth:
            data |= {"client_id": flatpeak[0].client_id, "client_secret": secret}
            return client.post("/oauth/token", data, secure=True)
        auth = basic(flatpeak[0].client_id, secret)
        return client.post("/oauth/token", data, secure=True, HTTP_AUTHORIZATION=auth)

    wrong = send(flatpeak[1] + "x")
    assert wrong.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    assert wrong.json()["error"] == "invalid_client"
    assert send(flatpeak[1]).status_code == HTTPStatus.OK


@pytest.mark.spec("RFC6749 2.3.1")
def test_a_client_proven_to_the_rate_limit_does_not_authenticate_another_client_id(
    client: Any, flatpeak: Any, make_oauth_client: Any, active_tokens: Any
) -> None:
    """The client row the rate limit loaded (from HTTP Basic) is only reused for that very
    client id; a body naming another client with a wrong secret is still refused."""
    _grant, issued = active_tokens()
    other, _other_secret = make_oauth_client(client_id="other")
    response = client.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": issued.refresh_token,
            "client_id": other.client_id,
            "client_secret": flatpeak[1],
        },
        secure=True,
    )
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    assert response.json()["error"] == "invalid_client"


# --- middleware on the client endpoints ---------------------------------------------------------
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_the_client_endpoints_skip_browser_middleware_but_keep_security_headers(
    client: Any, flatpeak: Any, make_customer: Any, path: str
) -> None:
    client.force_login(make_customer(email="someone@example.com"))  # a browser session cookie
    response = client.post(
        path,
        {"grant_type": "refresh_token", "refresh_token": "lrt_unknown", "token": "x"},
        secure=True,
        HTTP_AUTHORIZATION=basic(flatpeak[0].client_id, flatpeak[1]),
    )
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert not response.cookies
    assert "Accept-Language" not in response.get("Vary", "")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"


def test_the_authorization_page_keeps_sessions(client: Any, partner: Any) -> None:
    from .conftest import authorize_query

    response = client.get("/oauth/authorize", authorize_query(), secure=True)
    assert hasattr(response.wsgi_request, "session")


@override_settings(LANGUAGE_CODE="en")
def test_client_endpoint_messages_are_in_language_code_whatever_the_thread_served_last(
    client: Any,
) -> None:
    from django.utils import translation

    translation.activate("de")  # as LocaleMiddleware leaves a worker after a German page
    try:
        response = client.post("/oauth/token", {}, secure=True, HTTP_AUTHORIZATION="Basic !!!")
    finally:
        translation.deactivate()
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error_description"] == "Client authentication failed."
