"""The provider's own pages: account login, the account page with its tariff charts, and the
connected-apps page where a customer revokes FlatPeak's access."""

from __future__ import annotations

import pytest

from tests.browser.flows import (
    DEMO_PASSWORDS,
    click,
    connect_web_status,
    flow_start,
    login,
    wait_for_connect_web,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


def _account_login(phone, *, email: str) -> None:
    phone.page.get_by_label("Email").fill(email)
    phone.page.get_by_label("Password").fill(DEMO_PASSWORDS[email])
    click(phone, "Log in")


def test_account_login_errors_are_tied_to_their_fields_then_the_account_page_shows_charts(
    phone,
) -> None:
    page = phone.page
    phone.goto(phone.sites.endpoint + "/account/")
    assert phone.path() == "/account/login/"
    phone.check("account login")
    click(phone, "Log in")  # empty form: every field says what is missing
    phone.check("account login empty")
    assert page.locator("[aria-invalid=true]").count() >= 1
    _account_login(phone, email="alice@example.com")
    assert phone.path() == "/account/"
    phone.check("account home")
    # The tariff in force is drawn as a chart with a text alternative and a data table.
    chart = page.locator(".chart").first
    assert chart.locator("svg").count() >= 1
    svg = chart.locator("svg").first
    assert svg.get_attribute("role") == "img"
    assert "kWh" in (svg.get_attribute("aria-label") or "")
    assert chart.locator("table caption").count() >= 1
    assert chart.locator("table tbody tr").count() >= 1


@pytest.mark.spec("RFC7009 2")
def test_the_customer_revokes_flatpeak_and_flatpeak_loses_access_at_once(phone) -> None:
    page = phone.page
    flow_start(phone)
    login(phone, email="alice@example.com")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"
    connect_web = page.url

    phone.goto(phone.sites.endpoint + "/account/connected-apps/")
    if phone.path().startswith("/account/login"):
        _account_login(phone, email="alice@example.com")
    assert phone.path() == "/account/connected-apps/"
    phone.check("connected apps")
    page.get_by_role("link", name="Revoke access for HeatWise Heat Pumps").click()
    page.wait_for_load_state("load")
    phone.check("revoke confirm")
    click(phone, "Yes, revoke access")
    phone.check("connected apps revoked")
    assert page.get_by_role("status").inner_text().startswith("Access was revoked")

    # FlatPeak's poller now fails: the tokens it holds stopped working.
    phone.goto(connect_web)
    click(phone, "Poll again")
    steps = page.get_by_test_id("poll-steps")
    assert "✗" in steps.inner_text()
