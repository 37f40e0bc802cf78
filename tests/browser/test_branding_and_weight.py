"""Every flow page is ours alone and light: no third-party request, under 50 KB transferred
(logo aside), and a provider's rebrand by settings alone shows in the browser with AA contrast."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.browser.flows import click, flow_start, login, wait_for_connect_web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]

PAGE_BUDGET_BYTES = 50 * 1024


def _transferred(phone, *, since: int) -> tuple[int, list[str]]:
    """Bytes on the wire for the document and its subresources after request number `since`,
    leaving out images (the logos: the partner's is not ours to size, the brand's is cached)."""
    total, items = 0, []
    for request in phone.recorder.requests[since:]:
        if request.resource_type == "image" or not request.url.startswith(phone.sites.endpoint):
            continue  # logos aside; the sandbox's own pages are not ours to weigh
        response = request.response()
        if response is None:
            continue
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        items.append(f"{request.resource_type} {request.url.split('?')[0]} {size}")
    return total, items


def test_each_flow_page_is_under_50_kb_and_loads_nothing_from_other_hosts(phone) -> None:
    weights: dict[str, int] = {}

    def measure(name: str, since: int) -> None:
        total, items = _transferred(phone, since=since)
        assert total < PAGE_BUDGET_BYTES, f"{name} is {total} bytes:\n" + "\n".join(items)
        weights[name] = total

    # A fresh phone: nothing cached, so CSS and JS count on the first page.
    mark = len(phone.recorder.requests)
    flow_start(phone)
    measure("login", mark)
    mark = len(phone.recorder.requests)
    login(phone, email="bob@example.com")
    measure("choose address", mark)
    phone.page.get_by_role("radio").first.check()
    mark = len(phone.recorder.requests)
    click(phone, "Continue")
    measure("consent", mark)
    click(phone, "Allow")
    wait_for_connect_web(phone)
    assert phone.foreign_hosts() == set()
    assert set(weights) == {"login", "choose address", "consent"}


@pytest.mark.spec("WCAG22 1.4.3")
def test_a_light_brand_colour_is_made_readable_and_the_rebrand_needs_only_settings(
    phone,
) -> None:
    rebrand = {
        "BRAND_NAME": "Sonnenstrom Nord",
        "BRAND_PRIMARY_COLOUR": "#facc15",  # yellow: white text on it would fail AA
        "BRAND_SUPPORT_URL": "https://sonnenstrom.example/hilfe",
        "BRAND_PRIVACY_URL": "https://sonnenstrom.example/datenschutz",
        "BRAND_LOGO": "",
        "BRAND_CUSTOM_CSS": "brand/example-custom.css",
    }
    with override_settings(**rebrand):
        flow_start(phone)
        page = phone.page
        assert page.locator(".brand-name").inner_text() == "Sonnenstrom Nord"
        header = page.locator(".site-header")
        assert header.evaluate("h => getComputedStyle(h).borderBottomWidth") == "4px"
        assert page.title().endswith("Sonnenstrom Nord")
        assert (
            page.get_by_role("link", name="Sonnenstrom Nord support").get_attribute("href")
            == "https://sonnenstrom.example/hilfe"
        )
        login(phone, email="alice@example.com")
        allow = page.get_by_role("button", name="Allow")
        colours = allow.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
        )
        assert colours == ["rgb(250, 204, 21)", "rgb(17, 24, 39)"]  # yellow with dark ink
        phone.check("rebranded consent")  # axe's colour-contrast rule included
