"""Test clients shared by more than one test package."""

from __future__ import annotations

from typing import Any

from django.test import Client


class HttpsClient(Client):
    """Every request over HTTPS, as every browser does in production (SECURE_SSL_REDIRECT is on
    outside DEBUG)."""

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)
