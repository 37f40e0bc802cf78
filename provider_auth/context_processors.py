"""Template context shared by every page: the provider's brand (settings only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static


def _asset_url(value: str) -> str:
    # A brand asset is either an https URL or a path under our own static files.
    if value.startswith("https://"):
        return value
    return static(value)


def brand(request: HttpRequest) -> dict[str, Any]:
    return {
        "brand": {
            "name": settings.BRAND_NAME,
            "logo_url": _asset_url(settings.BRAND_LOGO) if settings.BRAND_LOGO else "",
            "primary_colour": settings.BRAND_PRIMARY_COLOUR,
            "support_url": settings.BRAND_SUPPORT_URL,
            "privacy_url": settings.BRAND_PRIVACY_URL,
            "custom_css_url": _asset_url(settings.BRAND_CUSTOM_CSS)
            if settings.BRAND_CUSTOM_CSS
            else "",
        },
        "sandbox_enabled": settings.SANDBOX_ENABLED,
    }
