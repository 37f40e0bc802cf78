"""Reuse the browser harness of tests/browser (Debian's Chromium, phone size, live server)."""

from tests.browser.conftest import (  # noqa: F401 - fixtures
    chromium_browser,
    demo_data,
    live_server,
    phone,
    sites,
)
