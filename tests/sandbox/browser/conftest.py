"""The browser harness's fixtures (two host names, one live server, Debian's Chromium)."""

from tests.browser.conftest import (  # noqa: F401 - re-exported fixtures
    chromium_browser,
    demo_data,
    live_server,
    phone,
    sites,
)
