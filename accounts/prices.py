"""Concrete prices of published and market-indexed tariffs, from plain values (no database).

A published-prices tariff's rate is the value the provider published for the interval. A
market-indexed tariff's rate combines its bidding zone's wholesale day-ahead price with the
surcharges of the tariff's time band, as FlatPeak does (fixed surcharge before percentage):

    rate = (wholesale_per_mwh / 1000 + surcharge_fixed) × (1 + surcharge_percentage)

in major currency units per kWh, with exact decimal arithmetic. Nothing here invents a price: an
interval without a published (or wholesale) price is simply absent from the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from accounts.tariffs import utc_offset_segments
from accounts.validators import wall_clock_minutes

UTC = dt.UTC


@dataclass(frozen=True)
class PriceInterval:
    """One stretch of real time with one rate: aware UTC datetimes, `valid_to` exclusive."""

    valid_from: dt.datetime
    valid_to: dt.datetime
    rate: Decimal


@dataclass(frozen=True)
class Surcharge:
    """A market-indexed tariff's surcharges for one time band (see `market_rate`)."""

    fixed: Decimal
    percentage: Decimal


@dataclass(frozen=True)
class PriceSeries:
    """What is known of a tariff's prices over a requested range.

    `intervals` never extend past `published_until` (the end of the last published interval,
    None when nothing is published); `last_updated` is when the newest day was published;
    `next_update` is when new prices are expected (see `next_update_at`).
    """

    intervals: tuple[PriceInterval, ...]
    published_until: dt.datetime | None
    last_updated: dt.datetime | None
    next_update: dt.datetime


class SurchargeRuleLike(Protocol):
    months: Any
    weekdays: Any
    valid_from: str
    valid_to: str
    surcharge_fixed: Decimal
    surcharge_percentage: Decimal


def per_mwh_to_per_kwh(value: Decimal) -> Decimal:
    """€/MWh → €/kWh exactly (a decimal shift, never a rounding): 85.12 → 0.08512."""
    return Decimal(value).scaleb(-3)


def market_rate(
    *, wholesale_per_mwh: Decimal, surcharge_fixed: Decimal, surcharge_percentage: Decimal
) -> Decimal:
    """The unit rate of a market-indexed tariff for one interval, in major units per kWh.

    FlatPeak's order: the fixed surcharge is added to the wholesale price first, then the
    percentage applies to the sum: `(wholesale_per_mwh / 1000 + fixed) × (1 + percentage)`.
    Exact: e.g. (85.12 €/MWh, 0.12, 0.05) → (0.08512 + 0.12) × 1.05 = 0.2153760.
    """
    return (per_mwh_to_per_kwh(wholesale_per_mwh) + Decimal(surcharge_fixed)) * (
        1 + Decimal(surcharge_percentage)
    )


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is UTC:  # rows read from the database already are: no conversion
        return value
    if value.tzinfo is None:
        raise ValueError("prices need timezone-aware datetimes")
    return value.astimezone(UTC)


def published_intervals(
    *,
    rows: Iterable[tuple[dt.datetime, dt.datetime, Decimal]],
    start: dt.datetime,
    end: dt.datetime,
) -> list[PriceInterval]:
    """Published (valid_from, valid_to, value) rows cut to [start, end), in time order."""
    start, end = _utc(start), _utc(end)
    result = []
    for valid_from, valid_to, value in sorted(rows, key=lambda r: r[0]):
        lo, hi = max(_utc(valid_from), start), min(_utc(valid_to), end)
        if lo < hi:
            result.append(PriceInterval(valid_from=lo, valid_to=hi, rate=Decimal(value)))
    return result


def surcharge_bands_between(
    *, rules: Iterable[SurchargeRuleLike], timezone: str, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, Surcharge]]:
    """The surcharge band of every moment of [start, end) as UTC stretches, in time order.

    Rules are read like schedule rules (months, weekdays, local "HH:MM" windows) in `timezone`,
    so across a DST change a band covers its real length.
    """
    start, end = _utc(start), _utc(end)
    zone = ZoneInfo(timezone)
    by_day: dict[tuple[int, int], list[tuple[int, int, Surcharge]]] = {}
    for rule in rules:
        band = (
            wall_clock_minutes(rule.valid_from),
            wall_clock_minutes(rule.valid_to),
            Surcharge(
                fixed=Decimal(rule.surcharge_fixed), percentage=Decimal(rule.surcharge_percentage)
            ),
        )
        for month in rule.months:
            for weekday in rule.weekdays:
                by_day.setdefault((month, weekday), []).append(band)
    bands: list[tuple[dt.datetime, dt.datetime, Surcharge]] = []
    for seg_start, seg_end, offset in utc_offset_segments(zone, start, end):
        local_start = (seg_start + offset).replace(tzinfo=None)
        local_end = (seg_end + offset).replace(tzinfo=None)
        day = local_start.date()
        while dt.datetime.combine(day, dt.time()) < local_end:
            midnight = dt.datetime.combine(day, dt.time())
            for w_start_min, w_end_min, surcharge in by_day.get((day.month, day.weekday()), ()):
                w_start = max(midnight + dt.timedelta(minutes=w_start_min), local_start)
                w_end = min(midnight + dt.timedelta(minutes=w_end_min), local_end)
                if w_start < w_end:
                    bands.append(
                        (
                            (w_start - offset).replace(tzinfo=UTC),
                            (w_end - offset).replace(tzinfo=UTC),
                            surcharge,
                        )
                    )
            day += dt.timedelta(days=1)
    bands.sort(key=lambda b: b[0])
    merged: list[tuple[dt.datetime, dt.datetime, Surcharge]] = []
    for piece in bands:
        # A DST change cuts a band in two; glue it back so a band is one stretch of real time.
        if merged and merged[-1][1] == piece[0] and merged[-1][2] == piece[2]:
            merged[-1] = (merged[-1][0], piece[1], piece[2])
        else:
            merged.append(piece)
    return merged


def market_indexed_intervals(
    *,
    wholesale: Iterable[tuple[dt.datetime, dt.datetime, Decimal]],
    bands: Sequence[tuple[dt.datetime, dt.datetime, Surcharge]],
    start: dt.datetime,
    end: dt.datetime,
) -> list[PriceInterval]:
    """Wholesale (valid_from, valid_to, price per MWh) rows priced with the bands they fall in.

    A wholesale interval crossing a band boundary is split there; a moment without a wholesale
    price or without a band has no rate (and is absent).
    """
    start, end = _utc(start), _utc(end)
    result: list[PriceInterval] = []
    # market_rate's two surcharge terms per band, converted once rather than per interval (a
    # week of quarter hours is 672 intervals); the arithmetic is market_rate's, term for term.
    terms = [(Decimal(s.fixed), 1 + Decimal(s.percentage)) for _lo, _hi, s in bands]
    i = 0
    for valid_from, valid_to, price in sorted(wholesale, key=lambda r: r[0]):
        lo, hi = max(_utc(valid_from), start), min(_utc(valid_to), end)
        if lo >= hi:
            continue
        while i < len(bands) and bands[i][1] <= lo:
            i += 1
        j = i
        while j < len(bands) and bands[j][0] < hi:
            b_lo, b_hi = max(bands[j][0], lo), min(bands[j][1], hi)
            if b_lo < b_hi:
                fixed, factor = terms[j]
                rate = (per_mwh_to_per_kwh(price) + fixed) * factor
                result.append(PriceInterval(valid_from=b_lo, valid_to=b_hi, rate=rate))
            j += 1
    return result


def local_instant(*, day: dt.date, at: dt.time, timezone: str) -> dt.datetime:
    """The UTC instant of a local wall-clock time on a local day.

    A time that does not exist that day (inside a spring-forward gap) is read with the offset
    before the change, i.e. it lands as far after the gap's start as written (02:30 → 03:30).
    """
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def next_update_at(
    *,
    now: dt.datetime,
    timezone: str,
    publish_time: dt.time,
    published_until: dt.datetime | None,
    late_retry: dt.timedelta,
) -> dt.datetime:
    """When new prices are expected, DST-correctly in the tariff's (or zone's) local time.

    The next day to be published is the local day on which `published_until` falls (today when
    nothing is published); its prices are expected at `publish_time` local on the day before.
    When that moment has passed without them the publisher is late, and the answer is
    `now + late_retry`, so pollers keep asking instead of waiting a day.
    """
    now = _utc(now)
    zone = ZoneInfo(timezone)
    if published_until is None:
        next_day = now.astimezone(zone).date()
    else:
        next_day = _utc(published_until).astimezone(zone).date()
    due = local_instant(day=next_day - dt.timedelta(days=1), at=publish_time, timezone=timezone)
    if due > now:
        return due
    return now + late_retry


def local_day_bounds(*, day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day in UTC: 23, 24 or 25 hours long."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(UTC)
    return start, end


__all__ = [
    "PriceInterval",
    "PriceSeries",
    "Surcharge",
    "local_day_bounds",
    "local_instant",
    "market_indexed_intervals",
    "market_rate",
    "next_update_at",
    "per_mwh_to_per_kwh",
    "published_intervals",
    "surcharge_bands_between",
]
