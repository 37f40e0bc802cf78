"""A real OpenID Provider (panva's oidc-provider, tests/oidc_provider/) for the relying party.

Started once per test session on a free loopback port. Without Node.js or `npm ci` in
tests/oidc_provider the tests that need it skip with a reason; CI sets REQUIRE_OIDC_PROVIDER=1
and they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

OP_DIR = Path(__file__).resolve().parents[2] / "oidc_provider"
CLIENT_ID = "provider-auth-test"
CLIENT_SECRET = "test-client-secret-not-for-production"  # noqa: S105 (a test OP's fixed secret)
# The Django test client's host; the callback path is fixed by provider_auth.oidc.urls.
REDIRECT_URI = "http://testserver/oidc/callback"


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


@pytest.fixture(scope="session")
def openid_provider() -> Iterator[OpenIDProvider]:
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed (needed for the test OpenID Provider)")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("oidc-provider is not installed: run `npm ci --prefix tests/oidc_provider`")
    assert node is not None  # noqa: S101 (narrowing)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 (fixed arguments, our own script)
        [node, "server.mjs", "--port", str(port), "--redirect-uri", REDIRECT_URI,
         "--backchannel-logout-uri", "http://testserver/oidc/backchannel-logout"],
        cwd=OP_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout and process.poll() is not None else ""
                pytest.fail(f"the test OpenID Provider did not start: {output[-2000:]}")
            time.sleep(0.1)
        yield OpenIDProvider(
            issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
