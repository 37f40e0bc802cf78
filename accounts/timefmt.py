"""The project's one way of writing an instant on the wire: RFC 3339 in UTC with a `Z` suffix.

Both apps import it (`accounts` is the bottom layer), so the tariff API, the connect flow's
FlatPeak payloads and the sandbox write instants alike.
"""

from __future__ import annotations

import datetime as dt
from typing import overload


@overload
def rfc3339(value: dt.datetime) -> str: ...


@overload
def rfc3339(value: None) -> None: ...


@overload
def rfc3339(value: dt.datetime | None) -> str | None: ...


def rfc3339(value: dt.datetime | None) -> str | None:
    """An aware datetime as '2026-03-29T00:30:00Z' (UTC, seconds precision); None stays None."""
    if value is None:
        return None
    if value.tzinfo is dt.UTC and not value.microsecond:
        # The common case (rows of a price series): isoformat is several times cheaper than
        # astimezone + strftime, which adds up over the 1,344 instants of 7 days of quarter hours.
        return value.isoformat()[:-6] + "Z"
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["rfc3339"]
