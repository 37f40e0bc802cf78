"""The tariff API's wire formats: our own tariff document, FlatPeak's tariff element, and the
body of a range of concrete rates.

Number format (our choice, used consistently by every shape): money and kWh values are JSON
**numbers** (Python `float` built from the stored `Decimal`). Rates have at most 4 decimal places
and 10 digits, so the shortest float representation that `json` writes (e.g. `0.245`) is exactly
the stored decimal; nothing is rounded. Times of day are local wall-clock times of the tariff's
`timezone`; instants are RFC 3339 in UTC with a `Z` suffix (`accounts.timefmt.rfc3339`).

The functions read only `contract.tariff`, `contract.premise` and `tariff.rules.all()`, so a
caller that loads those up front (see `selectors`) stays within its query budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings

from accounts.models import Contract, Pricing, Tariff
from accounts.price_selectors import PublicationState
from accounts.prices import PriceSeries
from accounts.tariffs import (
    ALL_DAYS,
    ALL_MONTHS,
    DAY_LABELS,
    MINUTES_PER_DAY,
    MONTH_LABELS,
    WEEKDAYS,
    WEEKEND,
    DayProfile,
    RateInterval,
    RuleLike,
    Tier,
    day_groups,
    minutes_to_wall_clock,
    tariff_week_profile,
    valid_int_list,
)
from accounts.timefmt import rfc3339
from accounts.validators import WEEKDAY_CODES


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _rules_of(tariff: Tariff) -> list[Any]:
    # Ordered in Python so a prefetched cache is used as is (no extra ORDER BY query).
    return sorted(
        tariff.rules.all(),
        key=lambda r: (
            r.valid_from,
            valid_int_list(r.months, 1, 12),
            valid_int_list(r.weekdays, 0, 6),
            r.tier_to_kwh is None,
            r.tier_to_kwh or 0,
            r.pk or 0,
        ),
    )


def tariff_to_provider_json(
    *, contract: Contract, publication: PublicationState | PriceSeries | None = None
) -> dict[str, Any]:
    """Our own documented tariff format (what the tariff API returns by default).

    Shape::

        {
          "name": "Economy 7", "direction": "IMPORT", "currency": "GBP",
          "timezone": "Europe/London", "standing_charge": 0.45,        # per day, major units
          "rules": [{"months": [1, …, 12], "days": ["MON", …, "SUN"],
                     "valid_from": "00:30", "valid_to": "07:30",       # local, "24:00" = midnight
                     "unit_rate": 0.13, "tier_to_kwh": null}, …],
          "contract_start_date": "2026-05-23T00:00:00Z",               # RFC 3339 UTC
          "contract_end_date": "2027-05-23T00:00:00Z" | null,          # exclusive; null = open
          "premise": {"reference": "PRM-000002",
                      "postal_address": {"address_line1": …, "address_line2": …, "city": …,
                                         "state": …, "post_code": …, "country_code": "GB"}},
          "updated_at": "2026-11-23T06:00:00Z",  # latest change of contract, tariff or premise
          "pricing": "schedule" | "published" | "market_indexed",
          "prices_include_vat": true, "bidding_zone": "DE-LU" | null,
          "published_rates": null | {"href": "https://…/api/v1/tariff/rates",
                                     "published_until": "…Z" | null, "last_updated": "…Z" | null}
        }

    A schedule tariff's rates are its `rules`. A published-prices tariff has no rules (its
    rates are the published series, served by `published_rates.href`); a market-indexed
    tariff's rules carry `surcharge_fixed` and `surcharge_percentage` per band (`unit_rate`
    null): rate = (wholesale per kWh + surcharge_fixed) × (1 + surcharge_percentage).

    Reads only `contract.tariff`, `contract.premise` and `contract.tariff.rules.all()`.
    """
    tariff = contract.tariff
    premise = contract.premise
    updated = [v for v in (contract.updated_at, tariff.updated_at, premise.updated_at) if v]
    return {
        "name": tariff.name,
        "direction": contract.direction,
        "currency": tariff.currency,
        "timezone": tariff.timezone,
        "standing_charge": _number(tariff.standing_charge),
        "rules": _provider_rules(tariff),
        "contract_start_date": rfc3339(contract.start_at),
        "contract_end_date": rfc3339(contract.end_at),
        "premise": {"reference": premise.reference, "postal_address": premise.postal_address()},
        "updated_at": rfc3339(max(updated)) if updated else None,
        **tariff_pricing_fields(tariff=tariff, publication=publication),
    }


def _provider_rules(tariff: Tariff) -> list[dict[str, Any]]:
    if tariff.pricing == Pricing.PUBLISHED:
        rules: list[dict[str, Any]] = []
    elif tariff.pricing == Pricing.MARKET_INDEXED:
        rules = [
            {
                "months": sorted(valid_int_list(rule.months, 1, 12)),
                "days": [WEEKDAY_CODES[d] for d in sorted(valid_int_list(rule.weekdays, 0, 6))],
                "valid_from": rule.valid_from,
                "valid_to": rule.valid_to,
                "unit_rate": None,
                "tier_to_kwh": None,
                "surcharge_fixed": float(rule.surcharge_fixed),
                "surcharge_percentage": float(rule.surcharge_percentage),
            }
            for rule in _rules_of(tariff)
        ]
    else:
        rules = [
            {
                "months": sorted(valid_int_list(rule.months, 1, 12)),
                "days": [WEEKDAY_CODES[d] for d in sorted(valid_int_list(rule.weekdays, 0, 6))],
                "valid_from": rule.valid_from,
                "valid_to": rule.valid_to,
                "unit_rate": _number(rule.unit_rate),
                "tier_to_kwh": _number(rule.tier_to_kwh),
            }
            for rule in _rules_of(tariff)
        ]
    return rules


def rates_href(*, output: str) -> str:
    """The absolute address of the rates endpoint (in FlatPeak's shape for `flatpeak`)."""
    href = settings.PUBLIC_BASE_URL.rstrip("/") + "/api/v1/tariff/rates"
    return href + "?format=flatpeak" if output == "flatpeak" else href


def tariff_pricing_fields(
    *, tariff: Tariff, publication: PublicationState | PriceSeries | None, output: str = "provider"
) -> dict[str, Any]:
    """How the tariff is priced: the fields both formats share (see the format docstrings)."""
    published: dict[str, Any] | None = None
    if tariff.pricing != Pricing.SCHEDULE:
        published = {
            "href": rates_href(output=output),
            "published_until": rfc3339(publication.published_until) if publication else None,
            "last_updated": rfc3339(publication.last_updated) if publication else None,
        }
    return {
        "pricing": str(tariff.pricing),
        "prices_include_vat": tariff.prices_include_vat,
        "bidding_zone": tariff.bidding_zone or None,
        "published_rates": published,
    }


def _flatpeak_time(minutes: int) -> str:
    # FlatPeak writes the end of the day as "00:00:00" (the next midnight), never "24:00:00".
    if minutes == MINUTES_PER_DAY:
        return "00:00:00"
    return f"{minutes_to_wall_clock(minutes)}:00"


def flatpeak_months_labels(months: Iterable[int]) -> list[str]:
    months = sorted(set(months))
    if set(months) == ALL_MONTHS:
        return ["All"]
    return [MONTH_LABELS[m - 1] for m in months]


def flatpeak_days_labels(weekdays: Iterable[int]) -> list[str]:
    days = frozenset(weekdays)
    if days == ALL_DAYS:
        return ["All"]
    labels: list[str] = []
    rest = set(days)
    if WEEKDAYS <= days:
        labels.append("Weekdays")
        rest -= WEEKDAYS
    if WEEKEND <= days:
        labels.append("Weekend")
        rest -= WEEKEND
    return labels + [DAY_LABELS[d] for d in sorted(rest)]


def _flatpeak_rate(tier: Tier) -> dict[str, Any]:
    return {"value": _number(tier.unit_rate), "to_kwh": _number(tier.to_kwh)}


def _flatpeak_surcharge(tier: Tier) -> dict[str, Any]:
    # FlatPeak ignores `fixed`/`value` when `market_rates` is true: it applies its own wholesale
    # price for the location, then these (fixed before percentage).
    pair: Any = tier.unit_rate  # (fixed, percentage): see `_SurchargeRule`
    fixed, percentage = pair
    return {
        "surcharge_fixed": float(fixed),
        "surcharge_percentage": float(percentage),
        "to_kwh": None,
    }


def _flatpeak_hours(
    day: DayProfile, rate: Callable[[Tier], dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {
            "valid_from": _flatpeak_time(window.start),
            "valid_to": _flatpeak_time(window.end),
            "rate": [rate(tier) for tier in window.tiers],
        }
        for window in day
    ]


@dataclass
class _SurchargeRule:
    """A market-indexed rule read as a schedule rule whose "rate" is its pair of surcharges, so
    the schedule grouping (identical bands share an entry) applies to surcharges unchanged."""

    months: Any
    weekdays: Any
    valid_from: str
    valid_to: str
    unit_rate: Any
    tier_to_kwh: Decimal | None = None


def tariff_flatpeak_schedule(
    *,
    rules: Iterable[RuleLike],
    rate: Callable[[Tier], dict[str, Any]] = _flatpeak_rate,
) -> list[dict[str, Any]]:
    """FlatPeak's `schedule`: months → days_and_hours → hours → rate, most compact grouping.

    Months whose seven day profiles are identical share one entry; within a month, weekdays with
    identical windows share one `days_and_hours` entry labelled "All", "Weekdays", "Weekend" or
    day names.
    """
    profile = tariff_week_profile(rules=rules)
    by_month: dict[tuple[tuple[tuple[int, ...], DayProfile], ...], list[int]] = {}
    for month in range(1, 13):
        key = tuple((tuple(days), day) for days, day in day_groups(profile, month))
        by_month.setdefault(key, []).append(month)
    return [
        {
            "months": flatpeak_months_labels(months),
            "days_and_hours": [
                {"days": flatpeak_days_labels(days), "hours": _flatpeak_hours(day, rate)}
                for days, day in key
            ],
        }
        for key, months in by_month.items()
    ]


def tariff_to_flatpeak(
    *, contract: Contract, publication: PublicationState | PriceSeries | None = None
) -> dict[str, Any]:
    """FlatPeak's tariff element for a contract.

    Shape::

        {
          "direction": "IMPORT", "type": "COMMODITY", "timezone": "Europe/London",
          "display_name": "Economy 7", "currency": "GBP",
          "contract_start_date": "2026-05-23T00:00:00Z", "contract_end_date": null | "…Z",
          "schedule": [{"months": ["All"] | ["Jan", …],
                        "days_and_hours": [{"days": ["All"] | ["Weekdays"] | ["Weekend"]
                                                     | ["Monday", …],
                                            "hours": [{"valid_from": "00:30:00",
                                                       "valid_to": "07:30:00",
                                                       "rate": [{"value": 0.13,
                                                                 "to_kwh": null}]}]}]}]
        }

    Times are local ("HH:MM:SS"); a window ending at midnight ends at "00:00:00" (FlatPeak's
    convention for the end of the day). Tiers are listed in ascending `to_kwh`, open top last.

    How the tariff is priced (besides the pricing fields our own format has, see
    `tariff_pricing_fields`, with `published_rates.href` pointing at the rates in FlatPeak's
    `TariffRate` shape):
    - schedule: `market_rates: false`, rates as above.
    - market-indexed: `market_rates: true`; each rate is
      `{"surcharge_fixed": 0.12, "surcharge_percentage": 0.19, "to_kwh": null}` (no `value`:
      FlatPeak applies its own wholesale price, then the fixed surcharge, then the percentage).
    - published prices: `market_rates: false` and an empty `schedule` — no weekly schedule
      describes them; the prices are at `published_rates.href`.

    Reads only `contract.tariff` and `contract.tariff.rules.all()`.
    """
    tariff = contract.tariff
    if tariff.pricing == Pricing.MARKET_INDEXED:
        schedule = tariff_flatpeak_schedule(
            rules=[
                _SurchargeRule(
                    months=rule.months,
                    weekdays=rule.weekdays,
                    valid_from=rule.valid_from,
                    valid_to=rule.valid_to,
                    unit_rate=(rule.surcharge_fixed, rule.surcharge_percentage),
                )
                for rule in tariff.rules.all()
            ],
            rate=_flatpeak_surcharge,
        )
    elif tariff.pricing == Pricing.PUBLISHED:
        schedule = []
    else:
        schedule = tariff_flatpeak_schedule(rules=tariff.rules.all())
    return {
        "direction": contract.direction,
        "type": "COMMODITY",
        "timezone": tariff.timezone,
        "display_name": tariff.name,
        "currency": tariff.currency,
        "contract_start_date": rfc3339(contract.start_at),
        "contract_end_date": rfc3339(contract.end_at),
        "schedule": schedule,
        "market_rates": tariff.pricing == Pricing.MARKET_INDEXED,
        **tariff_pricing_fields(tariff=tariff, publication=publication, output="flatpeak"),
    }


class RatesTariff(Protocol):
    """What the rates body reads of each tariff in force over the range (a `Tariff` or a
    source's `TariffDefinition`)."""

    @property
    def pricing(self) -> str: ...

    @property
    def currency(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def prices_include_vat(self) -> bool: ...

    @property
    def updated_at(self) -> dt.datetime | None: ...


def tariff_rates_body(
    *,
    direction: str,
    tariffs: Sequence[RatesTariff],
    start: dt.datetime,
    end: dt.datetime,
    intervals: Sequence[RateInterval],
    series: PriceSeries | None = None,
    output: str = "provider",
) -> dict[str, Any]:
    """The `/api/v1/tariff/rates` body: `intervals` of [start, end), priced in the currency and
    time zone of the tariff in force at the end of the range (the last of `tariffs`, those in
    force over the range in order).

    `series`: what is known of the last published or market-indexed tariff in the range (None
    when every contract is a schedule). Besides the prices, both formats say how fresh they are:
    `last_updated` (the newest edit of a schedule or publication of a series behind them), `next_update`
    (when new prices are expected; null for a schedule: it changes only when edited) and
    `published_until` (how far the published prices reach; null for a schedule, whose rates
    are known throughout). `output` "flatpeak" is FlatPeak's `TariffRate` shape.
    """
    tariff = tariffs[-1]
    # A schedule's prices change when it is edited; a series' when a day is published.
    changes = [t.updated_at for t in tariffs if t.pricing == Pricing.SCHEDULE and t.updated_at]
    if series is not None and series.last_updated is not None:
        changes.append(series.last_updated)
    freshness = {
        "last_updated": rfc3339(max(changes)) if changes else None,
        "next_update": rfc3339(series.next_update) if series is not None else None,
        "published_until": rfc3339(series.published_until) if series is not None else None,
    }
    # Consecutive intervals share their boundaries: each instant is written once.
    written: dict[dt.datetime, str] = {}

    def stamp(instant: dt.datetime) -> str:
        text = written.get(instant)
        if text is None:
            text = written[instant] = rfc3339(instant)
        return text

    if output == "flatpeak":
        return {
            "object": "tariff_rate",
            "location_timezone": tariff.timezone,
            "currency_code": tariff.currency,
            "direction": direction,
            **freshness,
            "request": {
                "start_time": rfc3339(start),
                "end_time": rfc3339(end),
                "direction": direction,
            },
            "data": [
                {
                    "valid_from": stamp(interval.start),
                    "valid_to": stamp(interval.end),
                    # Every rate we serve is published or contracted, never a forecast.
                    "tariff": {"rate": float(interval.unit_rate), "confidence": 1},
                }
                for interval in intervals
            ],
        }
    data: list[dict[str, Any]] = []
    for interval in intervals:
        item: dict[str, Any] = {
            "valid_from": stamp(interval.start),
            "valid_to": stamp(interval.end),
            "unit_rate": float(interval.unit_rate),
        }
        if len(interval.tiers) > 1:
            item["tiers"] = [
                {
                    "unit_rate": float(t.unit_rate),
                    "to_kwh": None if t.to_kwh is None else float(t.to_kwh),
                }
                for t in interval.tiers
            ]
        data.append(item)
    return {
        "object": "rates",
        "direction": direction,
        "currency": tariff.currency,
        "timezone": tariff.timezone,
        "pricing": str(tariff.pricing),
        "prices_include_vat": tariff.prices_include_vat,
        "start_time": rfc3339(start),
        "end_time": rfc3339(end),
        **freshness,
        "data": data,
    }


__all__ = [
    "tariff_flatpeak_schedule",
    "tariff_rates_body",
    "tariff_to_flatpeak",
    "tariff_to_provider_json",
]
