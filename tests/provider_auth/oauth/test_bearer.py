"""The tariff API's bearer check (`bearer_token_value` + `access_token_validate`) decides every
header and token state exactly as Authlib's ResourceProtector (`require_oauth` below, the
oracle) does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from authlib.integrations.django_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Premise
from provider_auth.oauth import tokens
from provider_auth.oauth.bearer import (
    BearerMalformedError,
    access_token_digest,
    access_token_validate,
    bearer_token_value,
    bearer_validator,
)
from provider_auth.oauth.models import AccessToken, Grant, GrantStatus, OAuthClient
from provider_auth.oauth.queries import access_token_lookup
from provider_auth.oauth.services import grant_issue
from provider_auth.tariff_api.selectors import access_token_get_for_polling

pytestmark = pytest.mark.django_db

SCOPES = ["tariff:read"]

# Authlib's own resource protector over the same validator: what the fast path must match.
require_oauth = ResourceProtector()
require_oauth.register_token_validator(bearer_validator)


def fast_path(header: str) -> Any:
    """The outcome of the tariff API's check (its own plain-SQL lookup, with and without the
    contracts join): the token id or the error class."""
    outcomes = set()
    for at in (None, timezone.now()):
        try:
            value = bearer_token_value(header)
            digest = access_token_digest(value)
            polling = access_token_get_for_polling(token_hash=digest, at=at) if digest else None
            token = polling.token if polling else None
            outcomes.add(access_token_validate(token, digest=digest, scopes=SCOPES).pk)
        except OAuth2Error as e:
            outcomes.add(type(e))
    assert len(outcomes) == 1, outcomes
    return outcomes.pop()


def authlib_path(header: str) -> Any:
    request = RequestFactory().get("/api/v1/tariff", HTTP_AUTHORIZATION=header)
    if not header:
        del request.META["HTTP_AUTHORIZATION"]
    try:
        return require_oauth.acquire_token(request, scopes=SCOPES).pk
    except OAuth2Error as e:
        return type(e)


@pytest.fixture
def live_token(make_premise: Callable[..., Premise], make_oauth_client: Any) -> tuple[Grant, str]:
    premise = make_premise()
    grant, issued = grant_issue(
        customer=premise.customer,
        premise=premise,
        client=make_oauth_client()[0],
        directions=["IMPORT"],
    )
    return grant, issued.access_token


@pytest.mark.spec("RFC6750 2.1")
@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer lat_unknown",
        "Bearer not-ours",
        "Bearer {token}",
        "bearer {token}",
        "BEARER   {token}",
    ],
)
def test_every_header_is_decided_as_authlib_decides_it(
    header: str, live_token: tuple[Grant, str]
) -> None:
    header = header.format(token=live_token[1])
    assert fast_path(header) == authlib_path(header)


@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer   ", "Bearer {token} extra", "Bearer a,b", "Bearer =abc"],
)
def test_an_empty_or_malformed_bearer_header_is_invalid_request(
    header: str, live_token: tuple[Grant, str]
) -> None:
    # Stricter than Authlib's ResourceProtector, which calls these an unsupported token type.
    assert fast_path(header.format(token=live_token[1])) is BearerMalformedError


@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize("header", ["Basic Zm9vOmJhcg==", "Token {token}", "Digest x=1", "   "])
def test_another_scheme_is_answered_like_no_credentials(
    header: str, live_token: tuple[Grant, str]
) -> None:
    assert fast_path(header.format(token=live_token[1])) is MissingAuthorizationError


@pytest.mark.spec("RFC6750 2.1")
def test_whitespace_around_the_header_value_is_not_part_of_the_token(
    live_token: tuple[Grant, str],
) -> None:
    grant, token = live_token
    assert fast_path(f"Bearer {token} ") == AccessToken.objects.get(grant=grant).pk


@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize(
    "spoil",
    [
        lambda grant: AccessToken.objects.filter(grant=grant).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        ),
        lambda grant: AccessToken.objects.filter(grant=grant).update(revoked_at=timezone.now()),
        lambda grant: Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.REVOKED),
        lambda grant: Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.PENDING),
        lambda grant: OAuthClient.objects.filter(pk=grant.client_id).update(is_active=False),
        lambda grant: AccessToken.objects.filter(grant=grant).update(scope="profile"),
        lambda grant: AccessToken.objects.filter(grant=grant).update(scope="profile tariff:read"),
    ],
    ids=[
        "expired",
        "revoked",
        "grant-revoked",
        "grant-pending",
        "client-off",
        "no-scope",
        "extra-scope",
    ],
)
def test_every_token_state_is_decided_as_authlib_decides_it(
    spoil: Callable[[Grant], Any], live_token: tuple[Grant, str]
) -> None:
    grant, token = live_token
    assert fast_path(f"Bearer {token}") == authlib_path(f"Bearer {token}")  # live
    spoil(grant)
    assert fast_path(f"Bearer {token}") == authlib_path(f"Bearer {token}")


def test_a_row_whose_digest_differs_from_the_presented_token_is_refused(
    live_token: tuple[Grant, str],
) -> None:
    from authlib.oauth2.rfc6750 import InvalidTokenError

    _grant, token = live_token
    found = access_token_lookup(token)
    other = tokens.secret_hash(tokens.secret_generate(tokens.ACCESS_TOKEN_PREFIX))
    with pytest.raises(InvalidTokenError):
        access_token_validate(found, digest=other, scopes=SCOPES)
    assert access_token_validate(found, digest=access_token_digest(token), scopes=SCOPES) == found
