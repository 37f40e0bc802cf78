"""ID-token and logout-token validation, with tokens and keys made by the tests.

The identity provider's discovery document and JWKS are served with `responses` (they leave the
process); keys are generated here, so each attack is built exactly as an attacker would.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
import responses
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from provider_auth.audit.models import AuditEvent
from provider_auth.oauth.models import GrantStatus
from provider_auth.oauth.services import grant_issue
from provider_auth.oidc.conf import oidc_settings
from provider_auth.oidc.errors import OidcInvalid, OidcUnavailable
from provider_auth.oidc.models import OidcBrowserSession, OidcIdentity
from provider_auth.oidc.provider import oidc_metadata_get
from provider_auth.oidc.tokens import (
    BACKCHANNEL_LOGOUT_EVENT,
    id_token_validate,
    logout_token_validate,
)

ISSUER = "https://idp.example.test/realms/customers"
CLIENT_ID = "provider-auth"
JWKS_URI = f"{ISSUER}/protocol/openid-connect/certs"
NONCE = "n-0S6_WzA2Mj"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class FakeIdP:
    """Serves discovery and a JWKS the test can rotate; counts JWKS fetches."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.key = new_key("k1")
        self.published = [self.key]
        mock.get(
            f"{ISSUER}/.well-known/openid-configuration",
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": JWKS_URI,
                "end_session_endpoint": f"{ISSUER}/logout",
            },
        )
        mock.add_callback(responses.GET, JWKS_URI, callback=self._jwks)

    def _jwks(self, request: Any) -> tuple[int, dict[str, str], str]:
        keys = [key.as_dict(private=False) for key in self.published]
        return 200, {"Content-Type": "application/json"}, json.dumps({"keys": keys})

    def jwks_fetches(self) -> int:
        return sum(1 for call in self.mock.calls if call.request.url == JWKS_URI)

    def sign(
        self, claims: dict[str, Any], *, key: Any = None, header: dict[str, Any] | None = None
    ) -> str:
        key = key or self.key
        return jwt.encode(header or {"alg": "RS256", "kid": key.kid}, claims, key)


def id_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "auth_time": now - 5,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def logout_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sid": "sid-08a5019c",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(autouse=True)
def _relying_party(settings: Any) -> None:
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = "s3cret-for-tests"
    settings.OIDC_MAX_AGE = None
    settings.OIDC_ACR_VALUES = ""
    # No cache.clear(): the shared Redis serves parallel workers; each test has its own key
    # prefix (tests/conftest.py), so discovery, JWKS and jti entries start empty anyway.


@pytest.fixture
def idp() -> Iterator[FakeIdP]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeIdP(mock)


# joserfc refuses an algorithm outside the allowlist before our key lookup runs; either way
# no key is fetched and the token is refused.
ALG_REFUSED = {"alg_not_allowed", "signature:UnsupportedAlgorithmError"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def validate(token: str) -> dict[str, Any]:
    return id_token_validate(id_token=token, config=oidc_settings(), nonce=NONCE)


def test_a_valid_id_token_passes(idp: FakeIdP) -> None:
    assert validate(idp.sign(id_claims()))["sub"] == "248289761001"


@pytest.mark.spec("OIDCCore 3.1.3.7")
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param({"exp": int(time.time()) - 3600}, "exp", id="expired"),
        pytest.param({"aud": "someone-else"}, "aud", id="wrong-aud"),
        pytest.param({"iss": "https://evil.example.test/"}, "iss", id="wrong-iss"),
        pytest.param({"nonce": "another-nonce"}, "nonce", id="bad-nonce"),
        pytest.param({"nonce": None}, "nonce", id="no-nonce"),
        pytest.param({"sub": None}, "sub", id="no-sub"),
        pytest.param({"iat": int(time.time()) + 3600}, "iat", id="iat-in-the-future"),
        pytest.param({"iat": int(time.time()) - 7200}, "iat", id="iat-too-old"),
        pytest.param({"aud": [CLIENT_ID, "other"]}, "azp", id="several-aud-without-azp"),
        pytest.param({"aud": [CLIENT_ID, "other"], "azp": "other"}, "azp", id="azp-of-another"),
    ],
)
def test_an_id_token_with_a_bad_claim_is_refused(
    idp: FakeIdP, claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(OidcInvalid) as refused:
        validate(idp.sign(id_claims(**claims)))
    assert reason in refused.value.reason


def test_several_audiences_with_our_azp_pass(idp: FakeIdP) -> None:
    assert validate(idp.sign(id_claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)))


@pytest.mark.spec("RFC8725 3.1")
def test_alg_none_is_refused(idp: FakeIdP) -> None:
    token = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(id_claims())}."
    with pytest.raises(OidcInvalid) as refused:
        validate(token)
    assert refused.value.reason in ALG_REFUSED
    assert idp.jwks_fetches() == 0  # refused before any key lookup


@pytest.mark.spec("RFC8725 3.1")
def test_hs256_signed_with_the_public_key_is_refused(idp: FakeIdP) -> None:
    # Built by hand as an attacker would (JOSE libraries refuse to make this key): the HMAC
    # secret is the provider's public key, which anyone can download.
    public_pem = idp.key.as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'k1'})}.{b64(id_claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(OidcInvalid) as refused:
        validate(token)
    assert refused.value.reason in ALG_REFUSED


def test_a_token_signed_by_another_key_with_our_kid_is_refused(idp: FakeIdP) -> None:
    forged = new_key("k1")
    with pytest.raises(OidcInvalid) as refused:
        validate(idp.sign(id_claims(), key=forged))
    assert refused.value.reason.startswith("signature")


def test_an_unknown_kid_refetches_the_jwks_once_and_a_rotated_key_passes(idp: FakeIdP) -> None:
    assert validate(idp.sign(id_claims()))
    assert idp.jwks_fetches() == 1
    rotated = new_key("k2")
    idp.published = [idp.key, rotated]
    assert validate(idp.sign(id_claims(), key=rotated))["sub"]
    assert idp.jwks_fetches() == 2


def test_unknown_kids_cannot_make_us_hammer_the_provider(idp: FakeIdP) -> None:
    validate(idp.sign(id_claims()))
    for n in range(5):
        with pytest.raises(OidcInvalid) as refused:
            validate(idp.sign(id_claims(), key=new_key(f"forged-{n}")))
        assert refused.value.reason == "unknown_kid"
    assert idp.jwks_fetches() == 2  # the first load, then one refresh per interval


def test_max_age_refuses_an_old_authentication(idp: FakeIdP, settings: Any) -> None:
    settings.OIDC_MAX_AGE = 60
    with pytest.raises(OidcInvalid):
        validate(idp.sign(id_claims(auth_time=int(time.time()) - 3600)))
    with pytest.raises(OidcInvalid):
        validate(idp.sign(id_claims(auth_time=None)))
    assert validate(idp.sign(id_claims()))


def test_acr_values_require_one_of_them_in_the_token(idp: FakeIdP, settings: Any) -> None:
    settings.OIDC_ACR_VALUES = "mfa phr"
    with pytest.raises(OidcInvalid) as refused:
        validate(idp.sign(id_claims(acr="pwd")))
    assert refused.value.reason == "claim:acr"
    with pytest.raises(OidcInvalid):
        validate(idp.sign(id_claims()))
    assert validate(idp.sign(id_claims(acr="mfa")))


def test_a_discovery_document_naming_another_issuer_is_not_used(settings: Any) -> None:
    with responses.RequestsMock() as mock:
        mock.get(
            f"{ISSUER}/.well-known/openid-configuration",
            json={
                "issuer": "https://evil.example.test",
                "authorization_endpoint": "x",
                "token_endpoint": "y",
                "jwks_uri": "z",
            },
        )
        with pytest.raises(OidcUnavailable) as refused:
            oidc_metadata_get(config=oidc_settings())
    assert refused.value.reason == "discovery_issuer_mismatch"


# --- Back-channel logout tokens -------------------------------------------------------------
def validate_logout(token: str) -> dict[str, Any]:
    return logout_token_validate(logout_token=token, config=oidc_settings())


@pytest.mark.spec("OIDCBackChannel 2.6")
def test_a_valid_logout_token_passes_once_and_its_replay_is_refused(idp: FakeIdP) -> None:
    token = idp.sign(logout_claims())
    assert validate_logout(token)["sid"] == "sid-08a5019c"
    with pytest.raises(OidcInvalid) as refused:
        validate_logout(token)
    assert refused.value.reason == "replayed_jti"


@pytest.mark.spec("OIDCBackChannel 2.6")
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param({"events": None}, "events", id="no-events"),
        pytest.param({"events": {"http://example.test/other": {}}}, "events", id="other-event"),
        pytest.param({"nonce": "x"}, "nonce", id="nonce-present"),
        pytest.param({"sub": None, "sid": None}, "sub_or_sid", id="neither-sub-nor-sid"),
        pytest.param({"jti": None}, "jti", id="no-jti"),
        pytest.param({"aud": "someone-else"}, "aud", id="wrong-aud"),
        pytest.param({"iss": "https://evil.example.test/"}, "iss", id="wrong-iss"),
        pytest.param({"iat": None}, "iat", id="no-iat"),
    ],
)
def test_a_bad_logout_token_is_refused(idp: FakeIdP, claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(OidcInvalid) as refused:
        validate_logout(idp.sign(logout_claims(**claims)))
    assert reason in refused.value.reason


@pytest.mark.spec("OIDCBackChannel 2.6")
def test_an_id_token_is_not_accepted_as_a_logout_token(idp: FakeIdP) -> None:
    with pytest.raises(OidcInvalid):
        validate_logout(idp.sign(id_claims()))


# --- The back-channel logout endpoint -------------------------------------------------------
def post_logout(data: dict[str, str]) -> Any:
    return Client().post("/oidc/backchannel-logout", data, secure=True)


@pytest.fixture
def federated_browser(
    db: Any, make_customer: Any, make_premise: Any, make_oauth_client: Any
) -> tuple[Client, Any]:
    """A browser logged in through the identity provider, and the customer's FlatPeak grant."""
    customer = make_customer(email="ada@example.com")
    identity = OidcIdentity.objects.create(issuer=ISSUER, subject="248289761001", customer=customer)
    browser = Client()
    browser.force_login(customer)
    OidcBrowserSession.objects.create(
        identity=identity, sid="sid-08a5019c", session_key=browser.session.session_key
    )
    grant, _tokens = grant_issue(
        customer=customer,
        premise=make_premise(customer=customer),
        client=make_oauth_client(client_id="flatpeak")[0],
        directions=["IMPORT"],
    )
    return browser, grant


@pytest.mark.spec("OIDCBackChannel 2.7")
def test_back_channel_logout_ends_our_sessions_but_keeps_flatpeaks_grant(
    idp: FakeIdP, federated_browser: tuple[Client, Any]
) -> None:
    browser, grant = federated_browser
    assert browser.get("/account/", secure=True).status_code == HTTPStatus.OK
    response = post_logout({"logout_token": idp.sign(logout_claims())})
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert (
        browser.get("/account/", secure=True).status_code == HTTPStatus.FOUND
    )  # to the login page
    assert not OidcBrowserSession.objects.exists()
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE  # a logout is not a withdrawal of consent
    event = AuditEvent.objects.get(event="oidc.backchannel_logout")
    assert event.detail["sessions"] == 1 and event.customer == grant.customer


@pytest.mark.spec("OIDCBackChannel 2.8")
def test_a_bad_or_replayed_logout_token_is_a_400_and_ends_nothing(
    idp: FakeIdP, federated_browser: tuple[Client, Any]
) -> None:
    browser, _ = federated_browser
    token = idp.sign(logout_claims(sid="another-sid"))
    assert post_logout({"logout_token": token}).status_code == 200
    replay = post_logout({"logout_token": token})
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_request"
    forged = idp.sign(logout_claims(), key=new_key("k1"))
    assert post_logout({"logout_token": forged}).status_code == 400
    assert post_logout({}).status_code == 400
    assert browser.get("/account/", secure=True).status_code == HTTPStatus.OK


def test_cleanup_forgets_federated_session_records_past_the_session_lifetime(
    federated_browser: tuple[Client, Any], settings: Any
) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    old = OidcBrowserSession.objects.get()
    old.created_at = timezone.now() - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    old.save()
    fresh = OidcBrowserSession.objects.create(identity=old.identity, session_key="k" * 32)
    out = io.StringIO()
    call_command("cleanup", "--only", "federated", stdout=out)
    assert "federated-login session records past their lifetime: 1 removed" in out.getvalue()
    assert list(OidcBrowserSession.objects.all()) == [fresh]
