"""Logging in through a real OpenID Provider (panva's oidc-provider), end to end."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import socket
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache
from joserfc.jwk import RSAKey

from accounts.models import Direction, User
from provider_auth.audit.models import AuditEvent
from provider_auth.connect.models import ConnectSession, Outcome
from provider_auth.oidc.conf import oidc_settings as oidc_settings_read
from provider_auth.oidc.models import OidcBrowserSession, OidcIdentity
from provider_auth.oidc.provider import _cache_key, oidc_metadata_get
from provider_auth.oidc.services import PENDING_KEY
from tests.provider_auth.connect.conftest import Browser, FakeFlatPeak
from tests.provider_auth.oidc.conftest import REDIRECT_URI, op_log_in, openid_provider_running

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_customer: Any, make_premise: Any, make_contract: Any) -> User:
    customer = make_customer(email="alice@example.com", account_number="A-1001")
    premise = make_premise(customer=customer, address_line1="1 Moon Street", reference="PRM-1")
    make_contract(premise=premise, direction=Direction.IMPORT)
    return customer


@pytest.fixture
def connect_login_page(
    oidc_settings: Any, browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> Any:
    fake_flatpeak.mock.add_passthru(oidc_settings.OIDC_ISSUER)
    fake_flatpeak.context()
    return browser.open()


def start_federated(browser: Browser, page: Any) -> Any:
    """Press "Continue with … account" on our page: the 303 to the identity provider."""
    html = page.content.decode()
    match = re.search(r'action="(/oidc/login)".*?name="connect" value="([^"]+)"', html, re.S)
    assert match, "no federated login button on the page"
    return to_provider(browser, browser.post(match.group(1), {"connect": match.group(2)}))


def to_provider(browser: Browser, response: Any) -> Any:
    """Follow our 303 to the "taking you to …" page; a 303-like answer with its target."""
    if response.status_code != HTTPStatus.SEE_OTHER:
        return response
    assert response["Location"] == "/oidc/continue"
    page = browser.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    match = re.search(
        r'<a [^>]*href="([^"]+)"[^>]*id="continue-to-provider"', page.content.decode()
    )
    assert match, page.content.decode()
    refresh = re.search(r'content="0;url=([^"]+)"', page.content.decode())
    assert refresh and refresh.group(1) == match.group(1)
    target = html.unescape(match.group(1))
    page.status_code = HTTPStatus.SEE_OTHER
    page.headers["Location"] = target
    return page


def come_back(browser: Browser, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    return browser.get(f"{parts.path}?{parts.query}")


@pytest.mark.spec("OIDCCore 3.1.2.1")
def test_connect_login_through_the_identity_provider_returns_to_the_same_flow(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    assert b"Continue with Lunar Energy account" in connect_login_page.content
    start = start_federated(browser, connect_login_page)
    assert b"/cancel" in start.content  # the "taking you to …" page keeps Cancel
    assert start.status_code == HTTPStatus.SEE_OTHER
    authorize = urlsplit(start["Location"])
    query = parse_qs(authorize.query)
    assert start["Location"].startswith(oidc_settings.OIDC_ISSUER)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0] and query["code_challenge"][0]

    callback = op_log_in(start["Location"], "alice")
    response = come_back(browser, callback)
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == browser.step_url  # the same connect session, still bound
    consent = browser.get(response["Location"])
    assert consent.status_code == HTTPStatus.OK
    assert b"1 Moon Street" in consent.content
    session = ConnectSession.objects.get()
    assert session.customer == alice

    identity = OidcIdentity.objects.get()
    assert (identity.issuer, identity.subject, identity.customer) == (
        oidc_settings.OIDC_ISSUER,
        "alice",
        alice,
    )
    events = list(AuditEvent.objects.filter(event__startswith="oidc.").order_by("id"))
    assert [e.event for e in events] == ["oidc.link_created", "oidc.login"]
    assert events[1].detail["sub"] == "alice" and events[1].customer == alice
    assert OidcBrowserSession.objects.filter(identity=identity).count() == 1


def test_a_later_login_uses_the_link_not_the_claim(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    OidcIdentity.objects.create(issuer=oidc_settings.OIDC_ISSUER, subject="alice", customer=alice)
    alice.account_number = None
    alice.save()
    start = start_federated(browser, connect_login_page)
    response = come_back(browser, op_log_in(start["Location"], "alice"))
    assert response["Location"] == browser.step_url
    assert ConnectSession.objects.get().customer == alice
    assert not AuditEvent.objects.filter(event="oidc.link_created").exists()


@pytest.mark.spec("OIDCCore 3.1.2.7")
def test_a_replayed_callback_is_a_400_page_without_a_session(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    start = start_federated(browser, connect_login_page)
    callback = op_log_in(start["Location"], "alice")
    assert come_back(browser, callback).status_code == HTTPStatus.SEE_OTHER

    other = Browser()
    response = come_back(other, callback)  # login CSRF: someone else's callback URL
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"could not be completed" in response.content
    again = come_back(browser, callback)  # and the same browser twice
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in other.client.session
    assert AuditEvent.objects.filter(event="oidc.login_rejected").count() == 2


def test_a_callback_without_a_pending_login_is_a_400_page(
    browser: Browser, oidc_settings: Any
) -> None:
    response = browser.get("/oidc/callback?code=abc&state=forged")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert AuditEvent.objects.get(event="oidc.login_rejected").detail["reason"] == (
        "unknown_or_replayed_state"
    )


def test_no_customer_for_the_login_shows_a_clear_page_and_cancel_submits_login_failed(
    browser: Browser, connect_login_page: Any, fake_flatpeak: FakeFlatPeak, alice: User
) -> None:
    start = start_federated(browser, connect_login_page)
    page = come_back(browser, op_log_in(start["Location"], "nobody"))
    assert page.status_code == HTTPStatus.FORBIDDEN
    assert b"We could not find a supply account for this login" in page.content
    assert b"https://lunar-energy.example/support" in page.content
    assert not OidcIdentity.objects.exists()
    fake_flatpeak.acknowledge()
    cancelled = browser.post(browser.action(page, "cancel"))
    assert cancelled.status_code == HTTPStatus.SEE_OTHER
    assert fake_flatpeak.submitted_bodies() == [
        {"status": Outcome.LOGIN_FAILED, "reason": "login_failed"}
    ]


def test_an_unverified_email_never_finds_a_customer(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    oidc_settings.OIDC_CUSTOMER_CLAIM = "email"
    start = start_federated(browser, connect_login_page)
    # mallory's token says email alice@example.com, email_verified false.
    page = come_back(browser, op_log_in(start["Location"], "mallory"))
    assert page.status_code == HTTPStatus.FORBIDDEN
    assert ConnectSession.objects.get().customer is None


def test_a_verified_email_claim_finds_the_customer(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    oidc_settings.OIDC_CUSTOMER_CLAIM = "email"
    start = start_federated(browser, connect_login_page)
    response = come_back(browser, op_log_in(start["Location"], "alice"))
    assert response["Location"] == browser.step_url
    assert ConnectSession.objects.get().customer == alice


@pytest.mark.spec("OIDCCore 3.1.2.6")
def test_access_denied_at_the_provider_returns_to_our_login_step(
    browser: Browser, connect_login_page: Any, alice: User
) -> None:
    start = start_federated(browser, connect_login_page)
    callback = op_log_in(start["Location"], "alice", abort=True)
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    response = come_back(browser, callback)
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == browser.step_url
    assert b"Continue with Lunar Energy account" in browser.get(browser.step_url).content


def test_an_unreachable_provider_gets_try_again_and_cancel(
    browser: Browser, connect_login_page: Any, oidc_settings: Any
) -> None:
    oidc_settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    response = start_federated(browser, connect_login_page)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    html = response.content.decode()
    assert "temporarily unavailable" in html
    assert "Try again" in html and "/cancel" in html


def test_with_local_login_off_no_page_shows_a_password_field(
    browser: Browser,
    oidc_settings: Any,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    alice: User,
) -> None:
    oidc_settings.LOCAL_LOGIN_ENABLED = False
    fake_flatpeak.context()
    page = browser.open()
    assert b'type="password"' not in page.content
    assert b"Continue with Lunar Energy account" in page.content
    refused = browser.post(
        browser.step_url + "login",
        {"username": "alice@example.com", "password": "correct-horse-battery"},
    )
    assert refused.status_code == HTTPStatus.SEE_OTHER
    assert ConnectSession.objects.get().customer is None
    account_page = browser.get("/account/login/")
    assert b'type="password"' not in account_page.content


def test_the_account_site_logs_in_through_the_provider(
    browser: Browser, oidc_settings: Any, alice: User
) -> None:
    page = browser.get("/account/login/")
    start = to_provider(browser, browser.post("/oidc/login", {"next": "/account/"}))
    assert b"Continue with Lunar Energy account" in page.content
    response = come_back(browser, op_log_in(start["Location"], "alice"))
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/"
    assert browser.get("/account/").status_code == HTTPStatus.OK


def test_an_open_redirect_through_next_is_refused(
    browser: Browser, oidc_settings: Any, alice: User
) -> None:
    browser.get("/account/login/")
    start = to_provider(browser, browser.post("/oidc/login", {"next": "https://evil.example/"}))
    response = come_back(browser, op_log_in(start["Location"], "alice"))
    assert response["Location"] == "/account/"


@pytest.mark.spec("RFC9207 2.4")
def test_a_callback_naming_another_issuer_is_refused_as_a_mix_up(
    browser: Browser, connect_login_page: Any, alice: User
) -> None:
    start = start_federated(browser, connect_login_page)
    callback = op_log_in(start["Location"], "alice")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["iss"] = "https://attacker-idp.example/"
    response = browser.get(parts.path, **query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert ConnectSession.objects.get().customer is None
    assert AuditEvent.objects.get(event="oidc.login_rejected").detail["reason"] == (
        "iss_parameter_mismatch"
    )


def test_a_provider_that_accepts_but_never_answers_gets_the_retry_page_in_bounded_time(
    browser: Browser, connect_login_page: Any, oidc_settings: Any
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing ever answers
        oidc_settings.OIDC_ISSUER = f"http://127.0.0.1:{silent.getsockname()[1]}"
        oidc_settings.OIDC_HTTP_TIMEOUT = (0.5, 0.5)
        started = time.monotonic()
        response = start_federated(browser, connect_login_page)
        assert time.monotonic() - started < 3
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Try again" in response.content


def test_oauth_authorize_logs_in_through_the_provider(
    browser: Browser, oidc_settings: Any, make_oauth_client: Any, alice: User
) -> None:
    redirect_uri = "https://partner.example/callback"
    make_oauth_client(client_id="partner", name="Partner App", redirect_uris=[redirect_uri])
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    response = browser.get(
        "/oauth/authorize",
        response_type="code",
        client_id="partner",
        redirect_uri=redirect_uri,
        scope="tariff:read",
        state="s-1",
        code_challenge=challenge.decode(),
        code_challenge_method="S256",
    )
    browser.step_url = response["Location"]
    login_page = browser.get(browser.step_url)
    assert b"Cancel and return to Partner App" in login_page.content
    start = start_federated(browser, login_page)
    back = come_back(browser, op_log_in(start["Location"], "alice"))
    assert back["Location"] == browser.step_url
    consent = browser.get(browser.step_url)
    assert b"1 Moon Street" in consent.content


@pytest.mark.spec("OIDCRPInitiated 2")
def test_logging_out_on_the_account_page_also_logs_out_at_the_provider(
    browser: Browser, oidc_settings: Any, alice: User, openid_provider: Any
) -> None:
    browser.get("/account/login/")
    start = to_provider(browser, browser.post("/oidc/login", {"next": "/account/"}))
    come_back(browser, op_log_in(start["Location"], "alice"))
    home = browser.get("/account/")
    assert b'action="/oidc/logout"' in home.content
    response = browser.post("/oidc/logout")
    assert response.status_code == HTTPStatus.SEE_OTHER
    location = urlsplit(response["Location"])
    assert response["Location"].startswith(openid_provider.issuer)
    assert parse_qs(location.query)["post_logout_redirect_uri"] == [
        "https://testserver/account/login/"
    ]
    assert browser.get("/account/").status_code == HTTPStatus.FOUND
    # The provider accepts the request (the registered post-logout URI): its confirm page.
    confirm = requests.get(response["Location"], timeout=5)
    assert confirm.status_code == HTTPStatus.OK
    assert "logout" in confirm.text.lower()


def test_an_id_token_failing_validation_is_a_400_page_an_audit_event_and_no_session(
    browser: Browser, connect_login_page: Any, alice: User
) -> None:
    start = start_federated(browser, connect_login_page)
    # Another login's nonce in this browser's pending login: the real ID token no longer fits.
    session = browser.client.session
    pending = session[PENDING_KEY]
    for entry in pending.values():
        entry["nonce"] = "a-nonce-from-another-login"
    session[PENDING_KEY] = pending
    session.save()
    response = come_back(browser, op_log_in(start["Location"], "alice"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in browser.client.session
    assert ConnectSession.objects.get().customer is None
    event = AuditEvent.objects.get(event="oidc.login_rejected")
    assert event.detail["reason"] == "claim:nonce"
    assert b"/cancel" in response.content  # Cancel is still there


def test_a_token_endpoint_that_does_not_answer_gets_the_retry_page(
    browser: Browser, connect_login_page: Any, alice: User, oidc_settings: Any
) -> None:
    start = start_federated(browser, connect_login_page)
    callback = op_log_in(start["Location"], "alice")
    config = oidc_settings_read()
    metadata = oidc_metadata_get(config=config)
    cache.set(
        _cache_key("metadata", config.issuer),
        {**metadata, "token_endpoint": "http://127.0.0.1:9/token"},
    )
    response = come_back(browser, callback)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Try again" in response.content and b"/cancel" in response.content
    assert "_auth_user_id" not in browser.client.session


def test_private_key_jwt_authenticates_the_code_exchange(
    browser: Browser, settings: Any, alice: User, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("_flatpeak_settings")
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "alg": "RS256", "use": "sig"})
    key_file = tmp_path / "rp-key.pem"
    key_file.write_bytes(key.as_pem(private=True))
    with openid_provider_running(
        redirect_uri=REDIRECT_URI,
        backchannel_logout_uri="https://testserver/oidc/backchannel-logout",
        post_logout_redirect_uri="https://testserver/account/login/",
        client_jwks={"keys": [key.as_dict(private=False)]},
    ) as provider:
        settings.PUBLIC_BASE_URL = "https://testserver"
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_CLIENT_ID = provider.client_id
        settings.OIDC_CLIENT_SECRET = ""
        settings.OIDC_PRIVATE_KEY_FILE = str(key_file)
        settings.OIDC_PRIVATE_KEY_ID = "rp-key-1"
        settings.OIDC_SCOPES = "openid email account"
        settings.OIDC_CUSTOMER_CLAIM = "account_number"
        browser.get("/account/login/")
        start = to_provider(browser, browser.post("/oidc/login", {"next": "/account/"}))
        response = come_back(browser, op_log_in(start["Location"], "alice"))
        assert response.status_code == HTTPStatus.SEE_OTHER, response.content[:300]
        assert response["Location"] == "/account/"
        # The same provider refuses the code exchange without the key (no shared secret).
        settings.OIDC_PRIVATE_KEY_FILE = ""
        settings.OIDC_CLIENT_SECRET = "test-client-secret-not-for-production"
        other = Browser()
        other.get("/account/login/")
        start = to_provider(other, other.post("/oidc/login", {"next": "/account/"}))
        refused = come_back(other, op_log_in(start["Location"], "alice"))
        assert refused.status_code == HTTPStatus.BAD_REQUEST


def test_with_local_login_off_the_security_page_asks_for_no_password(
    browser: Browser, oidc_settings: Any, alice: User
) -> None:
    browser.get("/account/login/")
    start = to_provider(browser, browser.post("/oidc/login", {"next": "/account/security/"}))
    come_back(browser, op_log_in(start["Location"], "alice"))
    assert b'type="password"' in browser.get("/account/security/").content
    oidc_settings.LOCAL_LOGIN_ENABLED = False
    page = browser.get("/account/security/")
    assert page.status_code == HTTPStatus.OK
    assert b'type="password"' not in page.content
