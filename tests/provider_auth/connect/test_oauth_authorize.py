"""`GET /oauth/authorize` through the connect flow's pages (login, supply address, consent)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oauth import tokens
from provider_auth.oauth.models import AuthorizationCode, Grant, GrantStatus
from tests.provider_auth.connect.conftest import Browser

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://partner.example/callback"


@pytest.fixture
def partner(make_oauth_client: Any) -> Any:
    return make_oauth_client(client_id="partner", name="Partner App", redirect_uris=[REDIRECT_URI])[
        0
    ]


def query(**overrides: Any) -> dict[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    params = {
        "response_type": "code",
        "client_id": "partner",
        "redirect_uri": REDIRECT_URI,
        "scope": "tariff:read",
        "state": "state-123",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def params_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def reach_consent(browser: Browser) -> Any:
    response = browser.get("/oauth/authorize", **query())
    assert response.status_code == HTTPStatus.SEE_OTHER
    login_page = browser.get(response["Location"])
    assert b"Partner App" in login_page.content
    assert b"Cancel and return to Partner App" in login_page.content
    return browser.get(browser.log_in(login_page, "ada@example.com")["Location"])


@pytest.mark.spec("RFC6749 4.1.2.1")
@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "nobody"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": None},
    ],
    ids=["unknown client", "no client", "unregistered redirect", "no redirect"],
)
def test_an_unknown_client_or_redirect_uri_shows_an_error_page_and_never_redirects(
    browser: Browser, partner: Any, overrides: dict[str, Any]
) -> None:
    response = browser.get("/oauth/authorize", **query(**overrides))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response
    assert b"not valid" in response.content
    assert not ConnectSession.objects.exists()


@pytest.mark.spec("RFC7636 4.4.1")
def test_a_request_without_pkce_goes_back_with_an_error_and_the_state(
    browser: Browser, partner: Any
) -> None:
    response = browser.get("/oauth/authorize", **query(code_challenge=None))
    assert response["Location"].startswith(REDIRECT_URI)
    params = params_of(response["Location"])
    assert params["error"] == "invalid_request" and params["state"] == "state-123"


@pytest.mark.spec("RFC6749 4.1.2")
def test_allow_redirects_with_a_single_use_code_and_the_state(
    browser: Browser, partner: Any, customer_with_premise: Any
) -> None:
    customer, premise = customer_with_premise
    consent = reach_consent(browser)
    html = consent.content.decode()
    assert "Share your tariff with Partner App?" in html
    assert "form-action 'self' https://partner.example" in consent["Content-Security-Policy"]
    response = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"].startswith(REDIRECT_URI + "?")
    params = params_of(response["Location"])
    assert params["state"] == "state-123"
    code = AuthorizationCode.objects.get()
    assert code.code_hash == tokens.secret_hash(params["code"])
    grant = Grant.objects.get()
    assert (grant.customer, grant.premise, grant.client) == (customer, premise, partner)
    assert grant.status == GrantStatus.PENDING  # activated when the code is redeemed
    session = ConnectSession.objects.get()
    assert session.state == SessionState.COMPLETED
    assert params["code"] not in str(session.__dict__)  # the code is never stored in clear

    again = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
    assert again.status_code == HTTPStatus.OK and b"already finished" in again.content
    assert AuthorizationCode.objects.count() == 1


@pytest.mark.spec("RFC6749 4.1.2.1")
@pytest.mark.parametrize("how", ["deny", "cancel"])
def test_deny_or_cancel_returns_access_denied_with_the_state(
    browser: Browser, partner: Any, customer_with_premise: Any, how: str
) -> None:
    consent = reach_consent(browser)
    if how == "deny":
        response = browser.post(browser.action(consent, "decide"), {"decision": "deny"})
    else:
        response = browser.post(browser.action(consent, "cancel"))
    assert response.status_code == HTTPStatus.SEE_OTHER
    params = params_of(response["Location"])
    assert params["error"] == "access_denied" and params["state"] == "state-123"
    assert "code" not in params
    assert not Grant.objects.exists()
