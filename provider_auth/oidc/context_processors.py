"""Template context for the login pages: the federated login button and the local form switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from provider_auth.oidc.conf import oidc_enabled


def oidc_login(request: HttpRequest) -> dict[str, Any]:
    return {
        "oidc_login": {"enabled": oidc_enabled(), "display_name": settings.OIDC_DISPLAY_NAME},
        "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
    }
