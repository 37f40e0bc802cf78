"""Reads of price series: what is published for a tariff or zone, and a tariff's concrete prices.

`tariff_prices_between` costs two queries whatever the range (the publication state, then the
price rows walked with one index range scan); a market-indexed tariff's rules come from
`tariff.rules.all()`, so prefetch them to keep it at two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone as django_timezone

from accounts.models import PricePublication, Pricing, PublishedPrice, Tariff, WholesalePrice
from accounts.prices import (
    PriceSeries,
    market_indexed_intervals,
    next_update_at,
    published_intervals,
    surcharge_bands_between,
)

# Rows are found by their start; no interval is longer than this, so one that starts this long
# before the range may still reach into it.
LONGEST_INTERVAL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class PublicationState:
    """A series' publication in one row: it changes exactly when a day is (re)published."""

    days: int
    versions: int
    last_updated: dt.datetime | None
    published_until: dt.datetime | None

    @property
    def tag(self) -> str:
        """A short token for ETags: `days.versions.last_updated`."""
        stamp = int(self.last_updated.timestamp() * 1_000_000) if self.last_updated else 0
        return f"{self.days}.{self.versions}.{stamp}"


def price_publication_state(
    *, tariff: Tariff | None = None, zone: str = "", region: str = ""
) -> PublicationState:
    """The publication state of a tariff's published prices or of a zone's wholesale prices."""
    if tariff is not None:
        publications = PricePublication.objects.filter(tariff=tariff, region=region)
    else:
        publications = PricePublication.objects.filter(tariff__isnull=True, zone=zone)
    row = publications.aggregate(
        days=Count("id"),
        versions=Sum("version"),
        last_updated=Max("published_at"),
        published_until=Max("valid_to"),
    )
    return PublicationState(
        days=row["days"] or 0,
        versions=row["versions"] or 0,
        last_updated=row["last_updated"],
        published_until=row["published_until"],
    )


def tariff_price_source_state(*, tariff: Tariff, region: str = "") -> PublicationState:
    """The publication state that decides a tariff's prices (its own, or its zone's)."""
    if tariff.pricing == Pricing.MARKET_INDEXED:
        return price_publication_state(zone=tariff.bidding_zone)
    return price_publication_state(tariff=tariff, region=region)


class SeriesTariff(Protocol):
    """What pricing a series reads of its tariff (a `Tariff` or a source's `TariffDefinition`;
    a market-indexed tariff's surcharge bands are its rules)."""

    @property
    def pricing(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def prices_publish_time(self) -> dt.time | None: ...

    @property
    def rules(self) -> Any: ...


def tariff_publish_time(*, tariff: SeriesTariff) -> dt.time:
    """When the tariff's next-day prices usually appear, local time (its own or the default)."""
    if tariff.prices_publish_time is not None:
        return tariff.prices_publish_time
    return dt.time.fromisoformat(settings.PRICES_PUBLISH_TIME)


def tariff_prices_between(
    *,
    tariff: Tariff,
    start: dt.datetime,
    end: dt.datetime,
    region: str = "",
    now: dt.datetime | None = None,
) -> PriceSeries:
    """The known prices of a published or market-indexed tariff over [start, end).

    Never invents a price: intervals cover only what is published (cut to the range), and
    `published_until` says how far the series reaches. Raises ValueError for a schedule
    tariff (its rates come from `accounts.tariffs.tariff_rates_between`).
    """
    if tariff.pricing == Pricing.SCHEDULE:
        raise ValueError("a schedule tariff has no price series; use tariff_rates_between")
    state = tariff_price_source_state(tariff=tariff, region=region)
    scan = {"valid_from__gte": start - LONGEST_INTERVAL, "valid_from__lt": end}
    rows: list[tuple[dt.datetime, dt.datetime, Decimal]]
    if tariff.pricing == Pricing.PUBLISHED:
        rows = list(
            PublishedPrice.objects.filter(tariff=tariff, region=region, **scan)
            .order_by("valid_from")
            .values_list("valid_from", "valid_to", "value")
        )
    else:
        rows = list(
            WholesalePrice.objects.filter(
                zone=tariff.bidding_zone, currency=tariff.currency, **scan
            )
            .order_by("valid_from")
            .values_list("valid_from", "valid_to", "price")
        )
    return price_series_build(tariff=tariff, state=state, rows=rows, start=start, end=end, now=now)


def price_series_build(
    *,
    tariff: SeriesTariff,
    state: PublicationState,
    rows: list[tuple[dt.datetime, dt.datetime, Decimal]],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
) -> PriceSeries:
    """A tariff's `PriceSeries` over [start, end) from its series' state and price rows (its
    published values, or its zone's wholesale prices per MWh) read elsewhere; no queries (a
    market-indexed tariff's bands come from `tariff.rules.all()`: prefetch them)."""
    now = now or django_timezone.now()
    if tariff.pricing == Pricing.PUBLISHED:
        intervals = published_intervals(rows=rows, start=start, end=end)
    else:
        bands = surcharge_bands_between(
            rules=tariff.rules.all(), timezone=tariff.timezone, start=start, end=end
        )
        intervals = market_indexed_intervals(wholesale=rows, bands=bands, start=start, end=end)
    return PriceSeries(
        intervals=tuple(intervals),
        published_until=state.published_until,
        last_updated=state.last_updated,
        next_update=next_update_at(
            now=now,
            timezone=tariff.timezone,
            publish_time=tariff_publish_time(tariff=tariff),
            published_until=state.published_until,
            late_retry=dt.timedelta(minutes=settings.PRICES_LATE_RETRY_MINUTES),
        ),
    )


__all__ = [
    "PublicationState",
    "price_publication_state",
    "price_series_build",
    "tariff_price_source_state",
    "tariff_prices_between",
    "tariff_publish_time",
]
