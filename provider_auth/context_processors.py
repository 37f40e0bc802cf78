"""Template context shared by every page: the provider's brand (settings only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from provider_auth.branding import brand_get


def brand(request: HttpRequest) -> dict[str, Any]:
    return {
        "brand": brand_get(),
        "sandbox_enabled": settings.SANDBOX_ENABLED,
    }
