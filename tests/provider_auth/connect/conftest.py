"""Helpers for the connect-flow tests: a fake FlatPeak (via `responses`) and a browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import responses
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import Direction, Premise, User
from provider_auth.flatpeak import logo as logo_module
from provider_auth.oauth.models import OAuthClient

TOKEN = "cot_68541c4c407600f62fd98a97"
API = "https://api.flatpeak.test"
SESSION_URL = f"{API}/connect/session/{TOKEN}"
DONE_URL = "https://connect.flatpeak.com/done?session=1"
PASSWORD = "correct-horse-battery"
LOGO_URL = "https://cdn.heatly.example/logo.png"
# A minimal valid PNG (1x1): the magic bytes are what the logo fetcher checks.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


def context_body(**account_overrides: Any) -> dict[str, Any]:
    account = {
        "id": "acc_heatly",
        "display_name": "Heatly Pumps",
        "logo_url": LOGO_URL,
        "terms_url": "https://heatly.example/terms",
        "privacy_url": "https://heatly.example/privacy",
        "support_url": "https://heatly.example/support",
    }
    account.update(account_overrides)
    return {
        "account": account,
        "redirect_uri": "https://auth.provider.example/flatpeak/auth",
        "connect_web_uri": "https://connect.flatpeak.com/continue",
        "live_mode": False,
    }


class FakeFlatPeak:
    """Registers FlatPeak's two endpoints in `responses` and reads what we sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def context(self, body: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.mock.get(SESSION_URL, json=body if body is not None else context_body(), **kwargs)

    def acknowledge(self, body: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.mock.post(
            SESSION_URL, json=body if body is not None else {"redirect_uri": DONE_URL}, **kwargs
        )

    def logo(
        self, body: bytes = PNG, content_type: str = "image/png", url: str = LOGO_URL, **kwargs: Any
    ) -> None:
        """The device maker's logo host (a third party, reached by our server only)."""
        self.mock.get(url, body=body, content_type=content_type, **kwargs)

    def logo_calls(self) -> int:
        return sum(1 for c in self.mock.calls if c.request.url == LOGO_URL)

    def submissions(self) -> list[Any]:
        return [c.request for c in self.mock.calls if c.request.method == "POST"]

    def submitted_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.submissions()]

    def context_calls(self) -> int:
        return sum(
            1 for c in self.mock.calls if c.request.method == "GET" and c.request.url == SESSION_URL
        )


@pytest.fixture(autouse=True)
def _flatpeak_settings(settings: Any) -> None:
    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key"
    # Tries, not the clock, keep failure tests quick: the deadline bounds the whole call,
    # so a tight one would also cut short a healthy answer on a loaded machine.
    settings.FLATPEAK_MAX_ATTEMPTS = 2
    settings.FLATPEAK_RETRY_DEADLINE = 3
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com"]
    settings.PUBLIC_BASE_URL = "https://auth.provider.example"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS leaves the process: every logo host resolves to a public address (no lookups)."""
    monkeypatch.setattr(logo_module, "host_resolve", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def fake_flatpeak() -> Iterator[FakeFlatPeak]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeFlatPeak(mock)


@pytest.fixture
def flatpeak_client(make_oauth_client: Callable[..., tuple[OAuthClient, str]]) -> OAuthClient:
    return make_oauth_client(client_id="flatpeak", name="FlatPeak")[0]


class Browser:
    """A Django test client that enforces CSRF, speaks https and follows our own 303s."""

    def __init__(self, **client_kwargs: Any) -> None:
        self.client = Client(enforce_csrf_checks=True, **client_kwargs)

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params or None, secure=True)

    def csrf(self) -> str:
        cookie = self.client.cookies.get(django_settings.CSRF_COOKIE_NAME)
        assert cookie is not None, "no CSRF cookie yet: GET a page with a form first"
        return cookie.value

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        # Over https Django's CSRF check also wants a same-origin Origin (or Referer).
        return self.client.post(
            url,
            {"csrfmiddlewaretoken": self.csrf(), **(data or {})},
            secure=True,
            headers={"Origin": "https://testserver"},
        )

    def open(self, token: str = TOKEN, param: str = "connect_token") -> Any:
        """Arrive from FlatPeak and follow to the first page."""
        response = self.get("/flatpeak/auth", **{param: token})
        if response.status_code == 303:
            self.step_url = response["Location"]
            return self.get(self.step_url)
        return response

    def action(self, page: Any, name: str) -> str:
        """The action URL of the form on `page` whose URL ends with `/<name>`."""
        html = page.content.decode()
        match = re.search(rf'action="([^"]+/{name})"', html)
        assert match, f"no form posting to …/{name} on the page"
        return match.group(1)

    def log_in(self, page: Any, email: str, password: str = PASSWORD) -> Any:
        return self.post(self.action(page, "login"), {"username": email, "password": password})


@pytest.fixture
def browser(db: Any) -> Browser:
    return Browser(HTTP_USER_AGENT="HeatlyApp/2.1 WebView", REMOTE_ADDR="203.0.113.9")


@pytest.fixture
def customer(make_customer: Callable[..., User]) -> User:
    """ada@example.com, the customer these tests log in as (reach_consent's default email)."""
    return make_customer(email="ada@example.com")


@pytest.fixture
def customer_with_premise(
    customer: User, make_premise: Callable[..., Premise], make_contract: Any
) -> tuple[User, Premise]:
    premise = make_premise(customer=customer, address_line1="1-3 Strand", reference="PRM-000123")
    make_contract(premise=premise, direction=Direction.IMPORT)
    return customer, premise


def allow(browser: Browser, consent: Any) -> Any:
    return browser.post(browser.action(consent, "decide"), {"decision": "allow"})


def reach_consent(
    browser: Browser, fake_flatpeak: FakeFlatPeak, email: str = "ada@example.com"
) -> Any:
    fake_flatpeak.context()
    login_page = browser.open()
    response = browser.log_in(login_page, email)
    assert response.status_code == HTTPStatus.SEE_OTHER
    return browser.get(response["Location"])


@pytest.fixture
def login_page(browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: OAuthClient) -> Any:
    """Our login page, reached from FlatPeak's link with FlatPeak serving the session context."""
    fake_flatpeak.context()
    return browser.open()


@pytest.fixture
def consent(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: OAuthClient,
    customer_with_premise: tuple[User, Premise],
) -> Any:
    """The consent page, after ada@example.com (one premise, one contract) logged in."""
    return reach_consent(browser, fake_flatpeak)
