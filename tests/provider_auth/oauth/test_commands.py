"""manage.py create_oauth_client and cleartokens."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from provider_auth.oauth import tokens
from provider_auth.oauth.models import AccessToken, AuthorizationCode, OAuthClient, RefreshToken

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_oauth_client_prints_a_generated_secret_once_and_stores_its_hash() -> None:
    output = run("create_oauth_client", "--name", "FlatPeak", "--client-id", "flatpeak")
    secret_line = next(line for line in output.splitlines() if line.startswith("client_secret:"))
    secret = secret_line.split()[-1]
    assert secret.startswith(tokens.CLIENT_SECRET_PREFIX)
    client = OAuthClient.objects.get(client_id="flatpeak")
    assert client.client_secret_hash == tokens.secret_hash(secret)
    assert client.check_client_secret(secret)
    assert secret not in str(list(OAuthClient.objects.values()))
    # without redirect URIs only refreshing makes sense (FlatPeak's usual set-up)
    assert client.grant_types == ["refresh_token"]
    assert client.scopes == ["tariff:read"]


def test_create_oauth_client_with_redirect_uris_and_grant_types() -> None:
    run(
        "create_oauth_client",
        "--name",
        "Partner",
        "--client-id",
        "partner",
        "--redirect-uri",
        "https://partner.example/cb",
        "--redirect-uri",
        "https://partner.example/cb2",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
    )
    client = OAuthClient.objects.get(client_id="partner")
    assert client.redirect_uris == ["https://partner.example/cb", "https://partner.example/cb2"]
    assert client.grant_types == ["authorization_code", "refresh_token"]


def test_a_supplied_secret_is_used_and_not_echoed() -> None:
    secret = "s" * 40
    output = run(
        "create_oauth_client", "--name", "X", "--client-id", "x", "--client-secret", secret
    )
    assert secret not in output
    assert OAuthClient.objects.get(client_id="x").check_client_secret(secret)


@pytest.mark.parametrize(
    "args",
    [
        ["--client-secret", "short"],
        ["--redirect-uri", "http://partner.example/cb"],
        ["--redirect-uri", "https://partner.example/cb#frag"],
        ["--redirect-uri", "not a uri"],
        ["--grant-type", "authorization_code"],
    ],
)
def test_invalid_input_is_a_command_error(args: list[str]) -> None:
    with pytest.raises(CommandError):
        run("create_oauth_client", "--name", "X", "--client-id", "x", *args)
    assert not OAuthClient.objects.exists()


def test_an_existing_client_id_is_a_command_error(make_oauth_client: Any) -> None:
    make_oauth_client(client_id="flatpeak")
    with pytest.raises(CommandError, match="already exists"):
        run("create_oauth_client", "--name", "FlatPeak", "--client-id", "flatpeak")


def test_cleartokens_deletes_only_dead_credentials_and_prints_counts(
    active_tokens: Any, obtain_code: Any
) -> None:
    now = timezone.now()
    _live_grant, live = active_tokens()
    _old_grant, old = active_tokens()
    AccessToken.objects.filter(token_hash=tokens.secret_hash(old.access_token)).update(
        expires_at=now - dt.timedelta(seconds=1)
    )
    RefreshToken.objects.filter(token_hash=tokens.secret_hash(old.refresh_token)).update(
        used_at=now - dt.timedelta(days=15)
    )
    obtain_code()
    AuthorizationCode.objects.update(expires_at=now - dt.timedelta(days=2))

    output = run("cleartokens")

    assert output.strip() == "access_tokens: 1, refresh_tokens: 1, authorization_codes: 1"
    assert AccessToken.objects.filter(token_hash=tokens.secret_hash(live.access_token)).exists()
    assert RefreshToken.objects.filter(token_hash=tokens.secret_hash(live.refresh_token)).exists()
    assert AccessToken.objects.count() == 1
    assert RefreshToken.objects.count() == 1
    assert not AuthorizationCode.objects.exists()


def test_recently_rotated_refresh_tokens_are_kept_for_reuse_detection(active_tokens: Any) -> None:
    _grant, issued = active_tokens()
    RefreshToken.objects.update(used_at=timezone.now() - dt.timedelta(days=1))
    run("cleartokens")
    assert RefreshToken.objects.count() == 1
