"""The account-security pages in real Chromium at phone size: one-time code, connected apps, revoke,
login and security settings, the locked-out page. Each passes the full accessibility check."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Premise, User
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient
from provider_auth.oauth.services import grant_issue
from tests.browser.flows import DEMO_PASSWORDS, click, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"


def _alice_grant() -> Grant:
    alice = User.objects.get(email=ALICE)
    premise = Premise.objects.filter(customer=alice).first()
    client = OAuthClient.objects.first()
    grant, _ = grant_issue(
        customer=alice,
        premise=premise,
        client=client,
        directions=["IMPORT"],
        display_name="Heatwise Pumps",
    )
    return grant


@pytest.mark.spec("WCAG22 2.1.1")
def test_alice_logs_in_with_a_one_time_code_and_revokes_an_app(phone, demo_data) -> None:
    User.objects.filter(email=ALICE).update(requires_email_otp=True)
    grant = _alice_grant()
    page = phone.page
    phone.goto(phone.sites.endpoint + "/account/login/?next=/account/connected-apps/")
    login(phone, email=ALICE)
    assert phone.path() == "/account/security/one-time-code/"
    phone.check("one-time code")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.get_by_label("One-time code").fill("000000" if code != "000000" else "111111")
    click(phone, "Continue")
    phone.check("one-time code wrong")
    page.get_by_label("One-time code").fill(code)
    click(phone, "Continue")
    assert phone.path() == "/account/connected-apps/"
    assert page.get_by_role("heading", name="Heatwise Pumps").is_visible()
    phone.check("connected apps")
    page.get_by_role("link", name="Revoke access for Heatwise Pumps").click()
    page.wait_for_load_state("load")
    phone.check("revoke confirmation")
    click(phone, "Yes, revoke access")
    assert phone.path() == "/account/connected-apps/"
    assert page.get_by_role("status").is_visible()
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED


def test_the_security_settings_and_locked_out_pages_pass_the_checks(phone, demo_data) -> None:
    page = phone.page
    phone.goto(phone.sites.endpoint + "/account/login/?next=/account/security/")
    login(phone, email=ALICE)
    assert phone.path() == "/account/security/"
    phone.check("security settings")
    page.get_by_label("Current password").fill("not-my-password")
    click(phone, "Save")
    phone.check("security settings error")
    click(phone, "Log out everywhere")
    phone.check("logged out everywhere")
    for _ in range(5):
        phone.goto(phone.sites.endpoint + "/account/login/")
        login(phone, email=ALICE, password="wrong-password")
    phone.goto(phone.sites.endpoint + "/account/login/")
    login(phone, email=ALICE, password=DEMO_PASSWORDS[ALICE])
    assert page.get_by_role("heading", name="Too many attempts").is_visible()
    phone.check("locked out")
