"""System checks for the tariff source setting (ids accounts.E0xx).

Errors, not warnings: a server whose TARIFF_SOURCE cannot answer would fail every poll and
every connect flow, so it must not start.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from accounts.sources import tariff_source_path
from accounts.sources.base import PROTOCOL_METHODS

KRAKEN = "accounts.sources.kraken.KrakenTariffSource"


@register()
def check_tariff_source(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    path = tariff_source_path()
    try:
        source = import_string(path)
    except ImportError as e:
        return [
            Error(
                f"TARIFF_SOURCE {path!r} cannot be imported: {e}",
                hint="Name a class by its dotted path, e.g. "
                "accounts.sources.local.LocalTariffSource.",
                id="accounts.E001",
            )
        ]
    missing = [name for name in PROTOCOL_METHODS if not callable(getattr(source, name, None))]
    if not inspect.isclass(source) or missing:
        return [
            Error(
                f"TARIFF_SOURCE {path!r} does not implement the tariff source interface"
                + (f" (missing: {', '.join(missing)})" if missing else " (not a class)"),
                hint="Implement accounts.sources.base.TariffSource.",
                id="accounts.E002",
            )
        ]
    errors: list[CheckMessage] = []
    if path == KRAKEN:
        if not settings.KRAKEN_ORGANIZATION_SECRET_KEY and not settings.KRAKEN_API_KEY:
            errors.append(
                Error(
                    "The Kraken tariff source has no credential.",
                    hint="Set KRAKEN_ORGANIZATION_SECRET_KEY (or KRAKEN_API_KEY).",
                    id="accounts.E003",
                )
            )
        for name in ("KRAKEN_GRAPHQL_URL", "KRAKEN_REST_URL"):
            url = str(getattr(settings, name, ""))
            if not url.startswith("https://") and not (
                settings.DEBUG and url.startswith("http://")
            ):
                errors.append(
                    Error(
                        f"{name} must be an https URL (the organisation's key travels there).",
                        id="accounts.E004",
                    )
                )
    return errors
