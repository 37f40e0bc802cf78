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
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from accounts.models import Contract, Tariff
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


def tariff_to_provider_json(*, contract: Contract) -> dict[str, Any]:
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
          "updated_at": "2026-11-23T06:00:00Z"   # latest change of contract, tariff or premise
        }

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
        "rules": [
            {
                "months": sorted(valid_int_list(rule.months, 1, 12)),
                "days": [WEEKDAY_CODES[d] for d in sorted(valid_int_list(rule.weekdays, 0, 6))],
                "valid_from": rule.valid_from,
                "valid_to": rule.valid_to,
                "unit_rate": _number(rule.unit_rate),
                "tier_to_kwh": _number(rule.tier_to_kwh),
            }
            for rule in _rules_of(tariff)
        ],
        "contract_start_date": rfc3339(contract.start_at),
        "contract_end_date": rfc3339(contract.end_at),
        "premise": {"reference": premise.reference, "postal_address": premise.postal_address()},
        "updated_at": rfc3339(max(updated)) if updated else None,
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


def _flatpeak_hours(day: DayProfile) -> list[dict[str, Any]]:
    return [
        {
            "valid_from": _flatpeak_time(window.start),
            "valid_to": _flatpeak_time(window.end),
            "rate": [
                {"value": _number(tier.unit_rate), "to_kwh": _number(tier.to_kwh)}
                for tier in window.tiers
            ],
        }
        for window in day
    ]


def tariff_flatpeak_schedule(*, rules: Iterable[RuleLike]) -> list[dict[str, Any]]:
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
                {"days": flatpeak_days_labels(days), "hours": _flatpeak_hours(day)}
                for days, day in key
            ],
        }
        for key, months in by_month.items()
    ]


def tariff_to_flatpeak(*, contract: Contract) -> dict[str, Any]:
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
    Reads only `contract.tariff` and `contract.tariff.rules.all()`.
    """
    tariff = contract.tariff
    return {
        "direction": contract.direction,
        "type": "COMMODITY",
        "timezone": tariff.timezone,
        "display_name": tariff.name,
        "currency": tariff.currency,
        "contract_start_date": rfc3339(contract.start_at),
        "contract_end_date": rfc3339(contract.end_at),
        "schedule": tariff_flatpeak_schedule(rules=tariff.rules.all()),
    }


def tariff_rates_body(
    *,
    direction: str,
    tariff: Tariff,
    start: dt.datetime,
    end: dt.datetime,
    intervals: Sequence[RateInterval],
) -> dict[str, Any]:
    """The `/api/v1/tariff/rates` body: `intervals` of [start, end), priced in `tariff`'s
    currency and time zone (the tariff in force at the end of the range)."""
    data: list[dict[str, Any]] = []
    for interval in intervals:
        item: dict[str, Any] = {
            "valid_from": rfc3339(interval.start),
            "valid_to": rfc3339(interval.end),
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
        "start_time": rfc3339(start),
        "end_time": rfc3339(end),
        "data": data,
    }


__all__ = [
    "tariff_flatpeak_schedule",
    "tariff_rates_body",
    "tariff_to_flatpeak",
    "tariff_to_provider_json",
]
