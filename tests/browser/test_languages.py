"""German, chosen by the phone's language or with the switcher, through the whole flow."""

from __future__ import annotations

import re

import pytest

from tests.browser.flows import DEMO_PASSWORDS, connect_web_status, wait_for_connect_web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


@pytest.mark.spec("WCAG22 3.1.1")
def test_a_german_phone_gets_the_whole_flow_in_german(phone_factory) -> None:
    phone = phone_factory(locale="de-DE")  # Chromium sends Accept-Language: de-DE
    page = phone.page
    phone.goto(phone.sites.sandbox + "/sandbox/")
    page.get_by_role("button", name="Tarif verbinden").click()
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/flatpeak/auth"))
    assert phone.lang() == "de"
    phone.check("de login")
    page.get_by_label("E-Mail").fill("alice@example.com")
    page.get_by_label("Passwort").fill(DEMO_PASSWORDS["alice@example.com"])
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state("load")
    phone.check("de consent")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Ihren Tarif mit")
    assert "Zum Inhalt springen" in page.content()
    # Numbers in German: alice's Fixed Saver rate is 0,2450 £ per kWh, not 0.2450.
    chart_text = page.locator(".chart").first.inner_text()
    assert "0,245" in chart_text
    assert "0.245" not in chart_text
    page.get_by_role("button", name="Erlauben").click()
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


@pytest.mark.spec("WCAG22 3.2.2")
def test_the_switcher_changes_the_language_and_stays_on_the_same_step(phone) -> None:
    page = phone.page
    phone.goto(phone.sites.sandbox + "/sandbox/")
    page.get_by_role("button", name="Connect my tariff").click()
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/flatpeak/auth"))
    login_url = page.url
    page.get_by_label("Language", exact=True).select_option("de")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state("load")
    assert page.url == login_url
    assert phone.lang() == "de"
    assert page.get_by_role("button", name="Anmelden").is_visible()
    # The switch is remembered for the next pages of the flow.
    page.get_by_label("E-Mail").fill("alice@example.com")
    page.get_by_label("Passwort").fill(DEMO_PASSWORDS["alice@example.com"])
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("button", name="Erlauben").is_visible()
