"""The whole flow once with the keyboard only, once with JavaScript off, and the JS that helps."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from tests.browser.flows import (
    DEMO_PASSWORDS,
    click,
    connect_web_status,
    flow_start,
    login,
    press_enter_and_wait,
    tab_to,
    wait_for_connect_web,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


@pytest.mark.spec("WCAG22 2.4.1")
@pytest.mark.spec("WCAG22 2.1.1")
def test_the_whole_flow_works_with_the_keyboard_alone(phone) -> None:
    page = phone.page
    phone.goto(phone.sites.sandbox + "/sandbox/")
    tab_to(phone, "Connect my tariff")
    press_enter_and_wait(phone)
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/flatpeak/auth"))

    # The first Tab on our page lands on the skip link, which becomes visible.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    page.keyboard.press("Enter")

    tab_to(phone, "Email")
    page.keyboard.type("alice@example.com")
    tab_to(phone, "Password")
    page.keyboard.type(DEMO_PASSWORDS["alice@example.com"])
    press_enter_and_wait(phone)

    tab_to(phone, "Allow")
    press_enter_and_wait(phone)
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


@pytest.mark.spec("WCAG22 2.1.1")
def test_bob_picks_an_address_with_arrow_keys(phone) -> None:
    page = phone.page
    flow_start(phone)
    login(phone, email="bob@example.com")
    page.get_by_role("radio").first.focus()
    page.keyboard.press("ArrowDown")  # moves and selects within the radio group
    assert page.get_by_role("radio").nth(1).is_checked()
    tab_to(phone, "Continue")
    press_enter_and_wait(phone)
    tab_to(phone, "Allow")
    press_enter_and_wait(phone)
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


def test_the_whole_flow_works_with_javascript_disabled(phone_without_js) -> None:
    phone = phone_without_js
    assert phone.page.evaluate("() => 1") == 1  # evaluation still works; page scripts do not run
    flow_start(phone)
    phone.check("login without javascript")
    login(phone, email="bob@example.com")
    phone.page.get_by_role("radio").first.check()
    click(phone, "Continue")
    phone.check("consent without javascript")
    form = phone.page.locator("form").filter(has=phone.page.get_by_role("button", name="Allow"))
    assert form.get_attribute("data-submitted") is None  # site.js never ran
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert connect_web_status(phone) == "AUTHORISED"


_TAP_AGAIN_JS = """
() => {
  // 100 ms after the first tap, while FlatPeak is still answering: report the buttons, tap again
  // and even resubmit from script. The report goes out through the console because the page is
  // about to be replaced.
  document.addEventListener('submit', () => setTimeout(() => {
    const buttons = [...document.querySelectorAll('button[name=decision]')];
    console.log('buttons ' + JSON.stringify(buttons.map(b => [b.disabled, b.getAttribute('aria-disabled')])));
    const allow = document.querySelector('button[value=allow]');
    allow.click();
    allow.form.requestSubmit();
    console.log('tapped again');
  }, 100), {once: true});
}
"""


def test_a_double_tap_on_allow_sends_one_request_and_disables_the_buttons(phone) -> None:
    page = phone.page
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    # FlatPeak answers the submission slowly (the sandbox's "slow" fault, 3 s here), so the
    # customer is still looking at the consent page when tapping a second time.
    with override_settings(FLATPEAK_READ_TIMEOUT=6.0):
        flow_start(phone, fault_submission="slow")
        login(phone, email="alice@example.com")
        page.evaluate(_TAP_AGAIN_JS)
        page.get_by_role("button", name="Allow").click()
        wait_for_connect_web(phone)
    assert 'buttons [[true,"true"],[true,"true"]]' in messages
    assert "tapped again" in messages
    posts = [r for r in phone.recorder.requests if r.method == "POST" and r.url.endswith("/decide")]
    assert len(posts) == 1
    # The tapped button's value still travelled although the button was disabled at once.
    assert "decision=allow" in (posts[0].post_data or "")
    assert connect_web_status(phone) == "AUTHORISED"
