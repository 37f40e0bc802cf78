"""The connect flow in real Chromium through the provider's own identity provider.

panva's oidc-provider (tests/oidc_provider/) plays the identity provider on another loopback
port: the customer presses "Continue with … account" on our login page, logs in on the
provider's own page, and comes back to the same connect session, then to FlatPeak's page;
logging out at the provider then ends our session through back-channel logout.
Local passwords are off, so our login page shows no password field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test.utils import override_settings

from provider_auth.audit.models import AuditEvent
from provider_auth.oauth.models import Grant, GrantStatus
from tests.browser.flows import click, connect_web_status, flow_start, wait_for_connect_web
from tests.provider_auth.oidc.conftest import CLIENT_ID, CLIENT_SECRET, openid_provider_running

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


@pytest.fixture
def identity_provider(sites: Any) -> Iterator[Any]:
    with (
        openid_provider_running(
            redirect_uri=f"{sites.endpoint}/oidc/callback",
            backchannel_logout_uri=f"{sites.endpoint}/oidc/backchannel-logout",
            post_logout_redirect_uri=f"{sites.endpoint}/account/login/",
        ) as provider,
        override_settings(
            OIDC_ISSUER=provider.issuer,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_SCOPES="openid email",
            OIDC_CUSTOMER_CLAIM="email",
            OIDC_DISPLAY_NAME="Lunar Energy",
            LOCAL_LOGIN_ENABLED=False,
        ),
    ):
        yield provider


@pytest.mark.spec("OIDCCore 3.1.2.1")
@pytest.mark.spec("OIDCBackChannel 2.7")
def test_alice_logs_in_at_the_identity_provider_and_allows(
    phone: Any, identity_provider: Any
) -> None:
    page = phone.page
    flow_start(phone)
    phone.check("login with identity provider")
    assert page.locator("input[type=password]").count() == 0
    click(phone, "Continue with Lunar Energy account")
    # The identity provider's own login page (not ours: no accessibility checks of it here).
    page.wait_for_url(re.compile(re.escape(identity_provider.issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill("alice")
    page.locator("input[name=password]").fill("any password")
    # The identity provider is the energy provider's own site, and its test login page loads a
    # web font: the third-party check is about our pages, so start counting afresh here.
    phone.recorder.requests.clear()
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/flatpeak/auth/s/"))
    page.wait_for_load_state("load")
    # Only the identity provider's own redirect hops after its login form are not ours.
    phone.recorder.requests[:] = [
        r for r in phone.recorder.requests if not r.url.startswith(identity_provider.issuer + "/")
    ]
    phone.check("consent after identity provider")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Share your tariff")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"

    # Logging out at the identity provider ends our session too (back-channel logout, sent by
    # the provider's server to ours), while FlatPeak's grant stays.
    phone.goto(phone.sites.endpoint + "/account/")
    assert phone.path() == "/account/"
    phone.goto(identity_provider.issuer + "/session/end")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_load_state("load")
    phone.goto(phone.sites.endpoint + "/account/")
    assert phone.path() == "/account/login/"
    assert AuditEvent.objects.filter(event="oidc.backchannel_logout").count() == 1
    assert Grant.objects.filter(status=GrantStatus.ACTIVE).count() == 1


@pytest.mark.spec("WCAG22 3.3.1")
def test_a_login_without_a_supply_account_gets_a_clear_page_and_cancel_reports_login_failed(
    phone: Any, identity_provider: Any
) -> None:
    page = phone.page
    flow_start(phone)
    click(phone, "Continue with Lunar Energy account")
    page.wait_for_url(re.compile(re.escape(identity_provider.issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill("nobody")
    page.locator("input[name=password]").fill("any password")
    phone.recorder.requests.clear()
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/oidc/callback"))
    page.wait_for_load_state("load")
    phone.recorder.requests[:] = [
        r for r in phone.recorder.requests if not r.url.startswith(identity_provider.issuer + "/")
    ]
    phone.check("no supply account for this login")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "We could not find a supply account for this login"
    click(phone, "Cancel and enter my tariff another way")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "LOGIN_FAILED"
