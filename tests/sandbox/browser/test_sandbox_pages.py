"""The sandbox's own pages in real Chromium at phone size: axe-core and the house checks.

The connect flow's browser tests already walk the app page and the AUTHORISED connect-web page;
these add the pages they do not reach: a form error, the fault options, a refusal, the sessions
list and the invalid-link page.
"""

from __future__ import annotations

import pytest

from tests.browser.flows import click, connect_web_status, flow_start, wait_for_connect_web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


def test_the_apps_fault_options_and_a_form_error_are_accessible(phone) -> None:
    phone.goto(phone.sites.sandbox + "/sandbox/")
    phone.page.locator("details summary").click()
    phone.check("sandbox app with fault options")
    phone.page.get_by_label("How many calls the fault hits").fill("99")
    phone.page.get_by_role("button", name="Connect my tariff").click()
    phone.page.wait_for_load_state("load")
    field = phone.page.get_by_label("How many calls the fault hits")
    assert field.get_attribute("aria-invalid") == "true"
    phone.check("sandbox app with an error", focus=False)


def test_the_hostile_persona_stays_text_then_a_refusal_and_the_sessions_list(phone) -> None:
    dialogs: list[str] = []
    phone.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    flow_start(phone, persona="hostile")
    # Its name arrives on our login page as visible text; none of its script runs.
    assert '<script>alert("fp")</script>' in phone.page.locator("main").inner_text()
    assert dialogs == []
    click(phone, "Cancel and enter my tariff another way")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "CANCELLED"
    phone.check("connect web cancelled")
    phone.page.get_by_role("link", name="Recent sandbox sessions").click()
    phone.page.wait_for_load_state("load")
    assert "CANCELLED" in phone.page.get_by_role("table").inner_text()
    phone.check("sandbox sessions")


def test_the_invalid_link_page(phone) -> None:
    response = phone.goto(phone.sites.sandbox + "/sandbox/connect-web/?fp_cot=nonsense")
    assert response.status == 400
    phone.check("sandbox connect web invalid link")
