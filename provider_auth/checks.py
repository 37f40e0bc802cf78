"""System checks for dangerous configuration (ids provider_auth.W0xx)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_flatpeak_configuration(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    if not settings.FLATPEAK_ACCOUNT_ID or not settings.FLATPEAK_API_KEY:
        warnings.append(
            Warning(
                "FLATPEAK_ACCOUNT_ID / FLATPEAK_API_KEY are not set: the connect flow cannot "
                "fetch session contexts.",
                hint="Set the credentials FlatPeak issued at onboarding.",
                id="provider_auth.W001",
            )
        )
    return warnings
