from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.clients import HttpsClient


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    """Rate-limit and one-time-code counters live in the cache: a private, empty one per test.

    Pinned to local memory so clearing it never touches a Redis shared with parallel workers;
    `test_redis.py` runs the same counters against Redis when REDIS_URL is set.
    """
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "security-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    return HttpsClient()


@pytest.fixture
def session_request(client: Any, rf: Any) -> Any:
    """A request whose session is the test client's, so a service call and later client requests
    share one server-side session (as in the browser)."""

    def make(path: str = "/", method: str = "post") -> Any:
        session = client.session
        request = getattr(rf, method)(path, REMOTE_ADDR="203.0.113.5")
        request.session = session
        return request

    return make
