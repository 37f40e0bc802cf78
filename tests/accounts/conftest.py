from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


class HttpsClient(Client):
    """Every request over HTTPS, as in production (SECURE_SSL_REDIRECT is on outside DEBUG)."""

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


@pytest.fixture
def client() -> Client:
    return HttpsClient()
