"""Sandbox fixtures: the sandbox switched on with known FlatPeak credentials."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from sandbox import services
from sandbox.models import SandboxSession

ACCOUNT_ID = "acc_test"
API_KEY = "sk_test_sandbox_key"
SANDBOX_ACCESS_KEY = "sandbox-viewer-key-for-tests-0123456789"
# With DEBUG off (as in the tests) the sandbox's records need staff or this key.
SANDBOX_KEY = {"X-Sandbox-Key": SANDBOX_ACCESS_KEY}


def basic(user: str = ACCOUNT_ID, key: str = API_KEY) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


@pytest.fixture
def sandbox_on(settings: Any) -> Any:
    settings.SANDBOX_ENABLED = True
    settings.SECURE_SSL_REDIRECT = False  # as in the demo (DEBUG); https is covered elsewhere
    settings.FLATPEAK_ACCOUNT_ID = ACCOUNT_ID
    settings.FLATPEAK_API_KEY = API_KEY
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.SANDBOX_AUTH_URI = "http://provider.test/flatpeak/auth"
    settings.SANDBOX_OAUTH_CLIENT_SECRET = "cs_sandbox_secret"
    settings.SANDBOX_ACCESS_KEY = SANDBOX_ACCESS_KEY
    settings.FLATPEAK_READ_TIMEOUT = 0.2
    return settings


@pytest.fixture
def make_sandbox_session(db: Any, sandbox_on: Any) -> Callable[..., SandboxSession]:
    def make(**fields: Any) -> SandboxSession:
        defaults: dict[str, Any] = {"persona": "heatwise", "direction": "IMPORT"}
        defaults.update(fields)
        return services.sandbox_session_create(**defaults)

    return make
