"""The token endpoint driven over real HTTP by a client library we did not write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from django.conf import settings
from django.utils import timezone
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from provider_auth.oauth import tokens
from provider_auth.oauth.models import GrantStatus, RefreshToken

from .conftest import REDIRECT_URI

# The live server speaks http on loopback. Production runs behind a TLS proxy that sets
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER); we send that header as the proxy would.
PROXY = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def plain_http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the client library's own check


@pytest.mark.spec("RFC6749 6")
@pytest.mark.django_db(transaction=True)
def test_requests_oauthlib_refreshes_reads_the_tariff_and_is_locked_out_after_reuse(
    live_server: Any, plain_http_allowed: Any, flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    client, secret = flatpeak
    session = OAuth2Session(
        client_id=client.client_id,
        token={
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "Bearer",
        },
    )
    session.headers.update(PROXY)
    token_url = live_server.url + "/oauth/token"
    auth = HTTPBasicAuth(client.client_id, secret)

    first = session.refresh_token(token_url, auth=auth, headers=PROXY)
    assert first["refresh_token"] != issued.refresh_token
    second = session.refresh_token(token_url, auth=auth, headers=PROXY)
    assert second["refresh_token"] != first["refresh_token"]

    tariff = session.get(live_server.url + "/api/v1/tariff", timeout=10)
    assert tariff.status_code == 200
    assert tariff.json()["object"] == "tariff"

    # replaying the first rotated token once the grace window is over revokes the grant for
    # everyone
    RefreshToken.objects.filter(token_hash=tokens.secret_hash(first["refresh_token"])).update(
        used_at=timezone.now() - dt.timedelta(seconds=settings.OAUTH_REFRESH_GRACE_SECONDS + 1)
    )
    replay = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
        headers=PROXY,
        timeout=10,
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert replay.headers["Cache-Control"] == "no-store"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED
    assert session.get(live_server.url + "/api/v1/tariff", timeout=10).status_code == 401


@pytest.mark.spec("RFC6749 4.1.3")
@pytest.mark.spec("RFC7636 4.5")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("client_auth", ["client_secret_basic", "client_secret_post"])
def test_requests_oauthlib_redeems_a_code_with_pkce_under_the_strict_token_endpoint(
    live_server: Any, plain_http_allowed: Any, partner: Any, obtain_code: Any, client_auth: str
) -> None:
    client, secret = partner
    code, verifier = obtain_code()
    session = OAuth2Session(client_id=client.client_id, redirect_uri=REDIRECT_URI)
    token_url = live_server.url + "/oauth/token"
    if client_auth == "client_secret_basic":
        extra: dict[str, Any] = {"auth": HTTPBasicAuth(client.client_id, secret)}
        token = session.fetch_token(
            token_url, code=code, code_verifier=verifier, headers=PROXY, timeout=10, **extra
        )
    else:
        token = session.fetch_token(
            token_url,
            code=code,
            code_verifier=verifier,
            client_secret=secret,
            include_client_id=True,
            headers=PROXY,
            timeout=10,
        )
        # refresh_token() passes extra keyword arguments into the body as they are
        extra = {"client_id": client.client_id, "client_secret": secret}
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    # and a refresh the same way, then a retry of it within the grace window (a lost response)
    refreshed = session.refresh_token(token_url, headers=PROXY, timeout=10, **extra)
    retried = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=HTTPBasicAuth(client.client_id, secret),
        headers=PROXY,
        timeout=10,
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] != refreshed["refresh_token"]
    tariff = session.get(live_server.url + "/api/v1/tariff", headers=PROXY, timeout=10)
    assert tariff.status_code == 200
