"""Real Chromium (Debian's, never a downloaded one) against a live server, at phone size.

The server answers under two host names: the sandbox (FlatPeak and the device maker's app) is
opened as `localhost:PORT`, our endpoint as `127.0.0.1:PORT`, so the first request of a flow is
cross-site as in real life: cookie `SameSite` and CSP `form-action` apply exactly as for a customer.

pytest-playwright's own `page`/`browser` fixtures are not used: they would look for (and offer
to download) a bundled browser. `tests/conftest.py` skips these tests with a reason when Chromium
is missing, and fails them instead when CI sets REQUIRE_CHROMIUM=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from tests.browser import a11y
from tests.conftest import CHROMIUM_PATH

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
    "locale": "en-GB",
}
# The sandbox's FlatPeak checks these Basic credentials (same values as `make demo`).
SANDBOX_ACCOUNT_ID = "acc_demo"
SANDBOX_API_KEY = "sk_demo_sandbox_key"  # noqa: S105 - the sandbox's published demo key

# Settings the server reads once at start-up (SecurityMiddleware) or that must hold for the whole
# run. The live server speaks plain http on loopback, like `make demo` (DEBUG=true): no TLS
# redirect, no Secure cookies, and CSP form-action lists the http FlatPeak hosts.
SERVER_SETTINGS: dict[str, Any] = {
    "DEBUG": True,
    "ALLOWED_HOSTS": ["localhost", "127.0.0.1"],
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "LANGUAGE_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
    "LANGUAGE_COOKIE_NAME": "django_language",
    "SANDBOX_ENABLED": True,
    "FLATPEAK_ACCOUNT_ID": SANDBOX_ACCOUNT_ID,
    "FLATPEAK_API_KEY": SANDBOX_API_KEY,
    # Every test starts from a fresh database but the cache (Redis in CI, shared with the rest of
    # the suite, all from 127.0.0.1) lives on: per-IP ceilings would leak between tests. The
    # per-account lockout (django-axes, in the database) stays at its real limit.
    "RATE_LIMIT_ENABLED": False,
    "LOGIN_IP_FAILURE_LIMIT": 100_000,
    "LOGIN_ACCOUNT_FAILURE_LIMIT": 100_000,
    # One attempt per FlatPeak call, so a fault injected for one call is seen by the customer
    # and the next "Try again" succeeds; the deadline bounds the whole call, so it leaves room
    # for a loaded machine (the sandbox answers from this same live server).
    "FLATPEAK_MAX_ATTEMPTS": 1,
    "FLATPEAK_RETRY_DEADLINE": 10.0,
}


def _forget_cached_policies() -> None:
    # The CSP header is computed once per process from FLATPEAK_REDIRECT_HOSTS and DEBUG.
    from provider_auth.security import middleware

    clear = getattr(getattr(middleware, "content_security_policy", None), "cache_clear", None)
    if clear:
        clear()


@pytest.fixture(scope="package")
def live_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A live server started under SERVER_SETTINGS, then told its own port."""
    with django_db_blocker.unblock(), override_settings(**SERVER_SETTINGS):
        server = LiveServer("localhost:0")
        port = server.thread.port
        try:
            with override_settings(
                PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                FLATPEAK_API_URL=f"http://127.0.0.1:{port}/sandbox/api",
                FLATPEAK_REDIRECT_HOSTS=[f"localhost:{port}", f"127.0.0.1:{port}"],
                SANDBOX_AUTH_URI=f"http://127.0.0.1:{port}/flatpeak/auth",
            ):
                _forget_cached_policies()
                yield server
        finally:
            server.stop()
            _forget_cached_policies()


class Sites:
    """The two names of one live server: FlatPeak's side and ours."""

    def __init__(self, server: LiveServer) -> None:
        port = server.thread.port
        self.port = port
        self.sandbox = f"http://localhost:{port}"  # FlatPeak + the device maker's app
        self.endpoint = f"http://127.0.0.1:{port}"  # the provider's authentication site
        self.hosts = {f"localhost:{port}", f"127.0.0.1:{port}"}


@pytest.fixture
def sites(live_server: LiveServer) -> Sites:
    return Sites(live_server)


@pytest.fixture
def demo_data(
    transactional_db: Any, sites: Sites, make_oauth_client: Callable[..., tuple[Any, str]]
) -> Iterator[None]:
    """alice/bob/carol and their tariffs (`seed_demo`), and FlatPeak's OAuth client whose secret
    the sandbox uses to refresh and check the tokens it receives."""
    from django.conf import settings

    call_command("seed_demo", verbosity=0)
    _client, secret = make_oauth_client(client_id=settings.FLATPEAK_OAUTH_CLIENT_ID)
    with override_settings(SANDBOX_OAUTH_CLIENT_SECRET=secret):
        yield


@pytest.fixture(scope="package")
def chromium_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM_PATH if os.path.exists(CHROMIUM_PATH) else shutil.which("chromium")
    # Playwright's sync API keeps an asyncio loop running on this thread; the test's own ORM
    # calls are synchronous and safe, but Django's guard cannot tell. Only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Recorder:
    """Every request the page made, to prove no third-party resources and page weight."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def record(self, request: Any) -> None:
        self.requests.append(request)

    def hosts(self) -> set[str]:
        return {urlsplit(r.url).netloc for r in self.requests if urlsplit(r.url).scheme != "data"}


def _close(context: Any) -> None:
    # Let requests still under way finish first: the server shares the test database, which is
    # flushed right after the test.
    for page in context.pages:
        try:
            page.wait_for_load_state("networkidle", timeout=5_000)
        except Exception:  # noqa: BLE001, S110 - best effort; closing aborts the rest
            pass
    context.close()


def _new_page(browser: Any, sites: Sites, **options: Any) -> tuple[Any, Any, Recorder]:
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(15_000)
    page = context.new_page()
    recorder = Recorder()
    page.on("request", recorder.record)
    return context, page, recorder


@pytest.fixture
def phone(chromium_browser: Any, sites: Sites) -> Iterator[a11y.Phone]:
    """A phone-sized page with JavaScript on (touch, 390×844, device scale factor 3)."""
    context, page, recorder = _new_page(chromium_browser, sites)
    yield a11y.Phone(page=page, recorder=recorder, sites=sites, artifacts=ARTIFACTS)
    _close(context)


@pytest.fixture
def phone_without_js(chromium_browser: Any, sites: Sites) -> Iterator[a11y.Phone]:
    context, page, recorder = _new_page(chromium_browser, sites, java_script_enabled=False)
    yield a11y.Phone(
        page=page, recorder=recorder, sites=sites, artifacts=ARTIFACTS, javascript=False
    )
    _close(context)


@pytest.fixture
def phone_factory(chromium_browser: Any, sites: Sites) -> Iterator[Callable[..., a11y.Phone]]:
    """More phones, e.g. one per language (`locale="de-DE"`)."""
    contexts: list[Any] = []

    def make(**options: Any) -> a11y.Phone:
        context, page, recorder = _new_page(chromium_browser, sites, **options)
        contexts.append(context)
        return a11y.Phone(
            page=page,
            recorder=recorder,
            sites=sites,
            artifacts=ARTIFACTS,
            javascript=options.get("java_script_enabled", True),
        )

    yield make
    for context in contexts:
        _close(context)
