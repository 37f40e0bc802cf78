"""Pluggable tariff sources: `tariff_source()` is the one configured by `TARIFF_SOURCE`.

The interface and its values are in `accounts.sources.base`; `local` reads our database,
`kraken` reads Kraken's API. One instance per process: an adapter keeps its HTTP session and
platform token between requests.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from accounts.sources.base import TariffSource

DEFAULT_TARIFF_SOURCE = "accounts.sources.local.LocalTariffSource"

_lock = threading.Lock()
_instances: dict[str, TariffSource] = {}
# Asked on every tariff API request: answered once per configured class.
_is_local: dict[str, bool] = {}


def tariff_source_path() -> str:
    return getattr(settings, "TARIFF_SOURCE", "") or DEFAULT_TARIFF_SOURCE


def tariff_source() -> TariffSource:
    """The configured tariff source (created on first use, then shared by the process)."""
    path = tariff_source_path()
    source = _instances.get(path)
    if source is None:
        with _lock:
            source = _instances.get(path)
            if source is None:
                source = import_string(path)()
                _instances[path] = source
    return source


def tariff_source_is_local() -> bool:
    """True when tariffs come from this server's own database (the default source)."""
    path = tariff_source_path()
    local = _is_local.get(path)
    if local is None:
        from accounts.sources.local import LocalTariffSource

        local = _is_local[path] = isinstance(tariff_source(), LocalTariffSource)
    return local


def tariff_source_reset() -> None:
    """Forget the instances (settings changed: tests, or a reconfigured process)."""
    with _lock:
        _instances.clear()
        _is_local.clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "TARIFF_SOURCE" or setting.startswith("KRAKEN_"):
        tariff_source_reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="accounts.sources.reset")
