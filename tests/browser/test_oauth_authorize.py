"""The standard OAuth authorization-code flow (for clients other than FlatPeak's connect flow) in
a real browser: the same login and consent pages, then the redirect back with code and state."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.browser.flows import click, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]

VERIFIER = "a-pkce-verifier-that-is-long-enough-to-be-valid-0123456789abcdef"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.spec("RFC6749 4.1.2")
def test_an_app_gets_a_code_and_its_state_back_after_the_customer_allows(
    phone, make_oauth_client
) -> None:
    callback = phone.sites.sandbox + "/sandbox/"
    make_oauth_client(client_id="heatwise-direct", name="HeatWise Direct", redirect_uris=[callback])
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "heatwise-direct",
            "redirect_uri": callback,
            "scope": "tariff:read",
            "state": "s-12345",
            "code_challenge": _challenge(VERIFIER),
            "code_challenge_method": "S256",
        }
    )
    phone.goto(phone.sites.endpoint + "/oauth/authorize?" + query)
    phone.check("oauth login")
    login(phone, email="alice@example.com")
    phone.check("oauth consent")
    click(phone, "Allow")
    phone.page.wait_for_url(re.compile(re.escape(callback) + r"\?"))
    params = parse_qs(urlsplit(phone.page.url).query)
    assert params["state"] == ["s-12345"]
    assert params["code"][0]
