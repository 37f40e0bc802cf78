"""Steps a customer takes, as a person would: by labels and button names, never by ids."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.a11y import Phone

DEMO_PASSWORDS = {
    "alice@example.com": "alice-demo-pass",
    "bob@example.com": "bob-demo-pass",
    "carol@example.com": "carol-demo-pass",
}


def flow_start(
    phone: Phone,
    *,
    persona: str = "heatwise",
    direction: str = "IMPORT",
    fault_context: str = "",
    fault_submission: str = "",
    fault_repeats: int = 1,
    check_as: str | None = None,
) -> None:
    """In the device maker's app (sandbox, on the other site): "Connect my tariff"."""
    page = phone.page
    phone.goto(phone.sites.sandbox + "/sandbox/")
    if check_as:
        phone.check(check_as)
    page.locator(f"input[name=persona][value={persona}]").check()
    page.locator(f"input[name=direction][value={direction}]").check()
    if fault_context or fault_submission or fault_repeats != 1:
        page.locator("details summary").click()
        if fault_context:
            page.get_by_label("Fault on the session-context call").select_option(fault_context)
        if fault_submission:
            page.get_by_label("Fault on the submission call").select_option(fault_submission)
        page.get_by_label("How many calls the fault hits").fill(str(fault_repeats))
    page.get_by_role("button", name="Connect my tariff").click()
    page.wait_for_url(re.compile(re.escape(phone.sites.endpoint) + r"/flatpeak/auth"))


def login(phone: Phone, *, email: str, password: str | None = None) -> None:
    page = phone.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password if password is not None else DEMO_PASSWORDS[email])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def click(phone: Phone, name: str, **options: Any) -> None:
    phone.page.get_by_role("button", name=name, **options).click()
    phone.page.wait_for_load_state("load")


def wait_for_connect_web(phone: Phone) -> None:
    """FlatPeak's connect-web page, on the sandbox's host (the final 303 left our site)."""
    phone.page.wait_for_url(re.compile(re.escape(phone.sites.sandbox) + r"/sandbox/connect-web/"))


def connect_web_status(phone: Phone) -> str:
    return phone.page.get_by_test_id("status").inner_text().strip()


_ACTIVE_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return (el.getAttribute('aria-label') || label || el.innerText || el.value || '').trim();
}
"""


def tab_to(phone: Phone, name: str, *, max_stops: int = 60) -> None:
    """Press Tab until the focused element is called `name` (as a screen reader would say)."""
    seen = []
    for _ in range(max_stops):
        phone.page.keyboard.press("Tab")
        current = phone.page.evaluate(_ACTIVE_JS)
        if current == name or current.startswith(name):
            return
        seen.append(current)
    raise AssertionError(f"{name!r} cannot be reached with Tab; focus went {seen}")


def press_enter_and_wait(phone: Phone) -> None:
    """Enter on a focused submit button or field: wait for the page it leads to."""
    with phone.page.expect_navigation(wait_until="load"):
        phone.page.keyboard.press("Enter")
