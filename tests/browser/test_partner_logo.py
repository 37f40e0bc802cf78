"""The device maker's logo in real Chromium: shown, and loaded from our own origin only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.flows import flow_start, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every resource the document loaded, cached or not (the request log misses cached ones).
_RESOURCES_JS = "() => performance.getEntriesByType('resource').map(e => e.name)"
_LOGO_JS = """() => {
  const img = document.querySelector('.partner img');
  return img ? {src: img.currentSrc, width: img.naturalWidth, complete: img.complete} : null;
}"""


def _assert_same_origin_logo(phone: Any) -> None:
    logo = phone.page.evaluate(_LOGO_JS)
    assert logo is not None, "no logo on the page"
    assert logo["src"].startswith(phone.sites.endpoint + "/flatpeak/auth/s/")
    assert logo["src"].endswith("/logo")
    assert logo["complete"] and logo["width"] > 0, "the logo did not load"
    foreign = [
        url
        for url in phone.page.evaluate(_RESOURCES_JS)
        if not url.startswith(phone.sites.endpoint + "/")
    ]
    assert foreign == [], f"our page loaded resources from elsewhere: {foreign}"


def test_the_persona_logo_is_served_by_us_on_the_login_and_consent_pages(
    phone: Any, demo_data: None
) -> None:
    # The sandbox (another site here) offers the logo; our server fetched it, the browser never.
    flow_start(phone, persona="heatwise")
    phone.page.get_by_text("Requested by HeatWise Heat Pumps").wait_for()
    _assert_same_origin_logo(phone)
    login(phone, email="alice@example.com")
    phone.page.get_by_role("heading", name="Share your tariff with HeatWise Heat Pumps?").wait_for()
    _assert_same_origin_logo(phone)
    phone.check("consent with a same-origin partner logo")


def test_a_persona_without_a_logo_shows_its_name_alone(phone: Any, demo_data: None) -> None:
    flow_start(phone, persona="minimal")
    phone.page.get_by_text("Requested by Minimal Battery Co").wait_for()
    assert phone.page.evaluate(_LOGO_JS) is None
