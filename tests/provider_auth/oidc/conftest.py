"""A real OpenID Provider (panva's oidc-provider, tests/oidc_provider/) for the relying party.

Started once per test session on a free loopback port. Without Node.js or `npm ci` in
tests/oidc_provider the tests that need it skip with a reason; CI sets REQUIRE_OIDC_PROVIDER=1
and they fail instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

# The connect flow's fake FlatPeak and CSRF-enforcing browser, shared with these tests.
from tests.provider_auth.connect.conftest import (  # noqa: F401 (fixtures)
    Browser,
    _flatpeak_settings,
    _public_dns,
    browser,
    fake_flatpeak,
    flatpeak_client,
)

OP_DIR = Path(__file__).resolve().parents[2] / "oidc_provider"
CLIENT_ID = "provider-auth-test"
CLIENT_SECRET = "test-client-secret-not-for-production"  # noqa: S105 (a test OP's fixed secret)
# The Django test client's host; the callback path is fixed by provider_auth.oidc.urls.
REDIRECT_URI = "https://testserver/oidc/callback"


@dataclass(frozen=True)
class OpenIDProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_OIDC_PROVIDER", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"REQUIRE_OIDC_PROVIDER is set but {reason}")
    pytest.skip(f"{reason}; CI sets REQUIRE_OIDC_PROVIDER=1 and fails instead")


@contextlib.contextmanager
def openid_provider_running(
    *,
    redirect_uri: str,
    backchannel_logout_uri: str,
    post_logout_redirect_uri: str,
    users: dict[str, dict[str, Any]] | None = None,
    client_jwks: dict[str, Any] | None = None,
) -> Iterator[OpenIDProvider]:
    """The test OpenID Provider on a free loopback port, this client registered; then stopped."""
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed (needed for the test OpenID Provider)")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("oidc-provider is not installed: run `npm ci --prefix tests/oidc_provider`")
    assert node is not None  # noqa: S101 (narrowing)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 (fixed arguments, our own script)
        [
            node, "server.mjs", "--port", str(port), "--redirect-uri", redirect_uri,
            "--backchannel-logout-uri", backchannel_logout_uri,
            "--post-logout-redirect-uri", post_logout_redirect_uri,
            "--users-json", json.dumps(users or {}),
            *(["--client-jwks-json", json.dumps(client_jwks)] if client_jwks else []),
        ],
        cwd=OP_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the test OpenID Provider did not start: {output[-2000:]}")
            time.sleep(0.1)
        yield OpenIDProvider(
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=redirect_uri,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def openid_provider() -> Iterator[OpenIDProvider]:
    """One provider for the Django-test-client tests (host `testserver`)."""
    with openid_provider_running(
        redirect_uri=REDIRECT_URI,
        backchannel_logout_uri="https://testserver/oidc/backchannel-logout",
        post_logout_redirect_uri="https://testserver/account/login/",
    ) as provider:
        yield provider


@pytest.fixture
def oidc_settings(
    settings: Any, openid_provider: OpenIDProvider, request: pytest.FixtureRequest
) -> Any:
    """This server as the test provider's relying party, customers found by account number."""
    request.getfixturevalue("_flatpeak_settings")  # before ours: it sets PUBLIC_BASE_URL too
    settings.PUBLIC_BASE_URL = "https://testserver"
    settings.OIDC_ISSUER = openid_provider.issuer
    settings.OIDC_CLIENT_ID = openid_provider.client_id
    settings.OIDC_CLIENT_SECRET = openid_provider.client_secret
    settings.OIDC_SCOPES = "openid email account"
    settings.OIDC_CUSTOMER_CLAIM = "account_number"
    settings.OIDC_DISPLAY_NAME = "Lunar Energy"
    return settings


def op_log_in(
    authorize_url: str, login: str, *, abort: bool = False, redirect_uri: str = REDIRECT_URI
) -> str:
    """Drive the OpenID Provider's own login page with plain HTTP; the callback URL it sends.

    `abort` presses the provider's "cancel" link instead (error=access_denied).
    """
    op = requests.Session()
    url = authorize_url
    for _ in range(10):
        if url.startswith(redirect_uri):
            return url
        response = op.get(url, allow_redirects=False, timeout=5)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            continue
        assert response.status_code == 200, response.text[:500]
        form = re.search(r'<form[^>]+action="([^"]+)"', response.text)
        assert form, response.text[:500]
        action = urljoin(url, form.group(1))
        if abort:
            response = op.get(action + "/abort", allow_redirects=False, timeout=5)
        elif 'name="prompt" value="login"' in response.text:
            response = op.post(
                action,
                data={"prompt": "login", "login": login, "password": "any"},
                allow_redirects=False,
                timeout=5,
            )
        else:
            response = op.post(action, data={"prompt": "consent"}, allow_redirects=False, timeout=5)
        assert response.status_code in (302, 303), response.text[:500]
        url = urljoin(action, response.headers["Location"])
    raise AssertionError("the OpenID Provider never sent the browser back")
