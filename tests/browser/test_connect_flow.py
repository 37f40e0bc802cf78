"""The connect flow in real Chromium, from the device maker's app back to FlatPeak.

Each test starts on the sandbox under `localhost` and moves to our endpoint under `127.0.0.1`, so
the first request is cross-site; each ends on FlatPeak's connect-web page, which proves that CSP
`form-action` lets the final 303 leave our site. Every page on the way, error states included,
passes axe-core and the checks in `a11y.py`, and is saved as a screenshot.
"""

from __future__ import annotations

import pytest

from tests.browser.flows import (
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


@pytest.mark.spec("WCAG22 1.3.1")
@pytest.mark.spec("WCAG22 1.4.3")
@pytest.mark.spec("WCAG22 1.4.10")
@pytest.mark.spec("WCAG22 2.4.7")
@pytest.mark.spec("WCAG22 2.5.5")
@pytest.mark.spec("WCAG22 3.1.1")
def test_alice_allows_and_flatpeak_receives_working_tokens(phone) -> None:
    flow_start(phone, check_as="sandbox app")
    phone.check("login")
    login(phone, email="alice@example.com")
    phone.check("consent")
    assert phone.page.get_by_role("heading", level=1).inner_text().startswith("Share your tariff")
    # What is shared is also drawn, with a text alternative.
    chart = phone.page.locator(".chart svg[role=img]").first
    assert "kWh" in (chart.get_attribute("aria-label") or "")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    phone.check("connect web authorised", focus=False)
    assert connect_web_status(phone) == "AUTHORISED"


@pytest.mark.spec("WCAG22 3.3.1")
def test_bob_chooses_one_of_his_two_addresses(phone) -> None:
    flow_start(phone)
    login(phone, email="bob@example.com")
    phone.check("choose address")
    click(phone, "Continue")  # nothing chosen yet: the error state
    phone.check("choose address error")
    radios = phone.page.get_by_role("radio")
    assert radios.count() >= 2
    radios.nth(1).check()
    click(phone, "Continue")
    phone.check("consent after choosing")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


def test_carol_has_no_tariff_and_returns_to_the_app(phone) -> None:
    flow_start(phone)
    login(phone, email="carol@example.com")
    phone.check("no tariff")
    click(phone, "Return to the app")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "NO_TARIFF"


def test_alice_denies_and_flatpeak_learns_it(phone) -> None:
    flow_start(phone)
    login(phone, email="alice@example.com")
    click(phone, "Deny")
    wait_for_connect_web(phone)
    phone.check("connect web declined", focus=False)
    assert connect_web_status(phone) == "DECLINED"


def test_cancel_at_login_sends_the_customer_back_to_enter_the_tariff_another_way(phone) -> None:
    flow_start(phone)
    click(phone, "Cancel and enter my tariff another way")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "CANCELLED"


@pytest.mark.spec("WCAG22 3.3.1")
def test_a_wrong_password_shows_an_error_tied_to_the_form_then_the_right_one_works(phone) -> None:
    flow_start(phone)
    login(phone, email="alice@example.com", password="not-her-password")
    phone.check("login wrong password")
    alert = phone.page.get_by_role("alert")
    assert alert.count() == 1
    password = phone.page.get_by_label("Password")
    assert password.input_value() == ""  # never echoed back
    login(phone, email="alice@example.com")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


@pytest.mark.spec("ASVS 2.2.1")
def test_too_many_wrong_passwords_show_the_lockout_page(phone) -> None:
    flow_start(phone)
    for _ in range(6):
        if phone.page.get_by_label("Password").count() == 0:
            break
        login(phone, email="bob@example.com", password="guessing-wrong")
    phone.check("locked out")
    assert "Too many attempts" in phone.page.get_by_role("heading", level=1).inner_text()


def test_an_expired_link_says_so_and_offers_the_way_back(phone) -> None:
    flow_start(phone, fault_context="gone_410")
    phone.check("expired link")
    heading = phone.page.get_by_role("heading", level=1).inner_text()
    assert "expired" in heading.lower()


def test_flatpeak_unavailable_then_try_again_continues_the_flow(phone) -> None:
    flow_start(phone, fault_context="error_500", fault_repeats=1)
    phone.check("flatpeak unavailable")
    phone.page.get_by_role("link", name="Try again").or_(
        phone.page.get_by_role("button", name="Try again")
    ).click()
    phone.page.wait_for_load_state("load")
    login(phone, email="alice@example.com")
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


def test_a_failed_submission_keeps_the_choice_and_try_again_delivers_it(phone) -> None:
    flow_start(phone, fault_submission="error_500", fault_repeats=1)
    login(phone, email="alice@example.com")
    click(phone, "Allow")
    phone.check("submission failed")
    click(phone, "Try again")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"
