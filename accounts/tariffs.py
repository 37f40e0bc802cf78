"""Tariff arithmetic: the week profile of a rule set, its validation, and the concrete rates
between two instants.

Everything here is pure and takes plain values (rules, a time zone name, a range), so it imports
no model: `accounts.models` validates rule sets with it, and the tariff API's wire formats
(`provider_auth.tariff_api.formats`) and the customer's price chart (`accounts.charts`) build on
it. Times of day are local wall-clock times of the tariff's `timezone`; instants are aware UTC
datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.validators import WEEKDAY_CODES, wall_clock_minutes

MINUTES_PER_DAY = 24 * 60
UTC = dt.UTC

MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})
ALL_DAYS = frozenset(range(7))
ALL_MONTHS = frozenset(range(1, 13))


class RuleLike(Protocol):
    """A TariffRule, saved or not (the admin formset and the importer validate unsaved ones)."""

    months: Any
    weekdays: Any
    valid_from: str
    valid_to: str
    unit_rate: Decimal
    tier_to_kwh: Decimal | None


@dataclass(frozen=True)
class Tier:
    """One consumption tier: `unit_rate` applies up to `to_kwh` (None = no ceiling)."""

    to_kwh: Decimal | None
    unit_rate: Decimal


@dataclass(frozen=True)
class Window:
    """A local wall-clock window of one day, minutes since midnight, `end` up to 1440."""

    start: int
    end: int
    tiers: tuple[Tier, ...]

    @property
    def unit_rate(self) -> Decimal:
        """The rate of the first (or only) tier: what a kWh costs at this time of day."""
        return self.tiers[0].unit_rate


DayProfile = tuple[Window, ...]
WeekProfile = dict[tuple[int, int], DayProfile]  # (month 1-12, weekday 0-6) -> windows


@dataclass(frozen=True)
class RateInterval:
    """A stretch of real time with one price. `start`/`end` are aware UTC datetimes, end exclusive.

    `unit_rate` is the first tier's rate; `tiers` lists every tier (one for untiered tariffs).
    """

    start: dt.datetime
    end: dt.datetime
    unit_rate: Decimal
    tiers: tuple[Tier, ...]


def minutes_to_wall_clock(minutes: int) -> str:
    """450 → '07:30'; 1440 → '24:00'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _tier_sort_key(tier: Tier) -> tuple[int, Decimal]:
    return (1, Decimal(0)) if tier.to_kwh is None else (0, tier.to_kwh)


def valid_int_list(value: Any, low: int, high: int) -> list[int]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high]


def _windows_by_day(
    rules: Iterable[RuleLike],
) -> dict[tuple[int, int], dict[tuple[int, int], list[Tier]]]:
    by_day: dict[tuple[int, int], dict[tuple[int, int], list[Tier]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for rule in rules:
        try:
            start = wall_clock_minutes(rule.valid_from)
            end = wall_clock_minutes(rule.valid_to)
        except (AttributeError, ValueError):
            continue  # field validation reports malformed times
        tier = Tier(to_kwh=rule.tier_to_kwh, unit_rate=rule.unit_rate)
        for month in valid_int_list(rule.months, 1, 12):
            for weekday in valid_int_list(rule.weekdays, 0, 6):
                by_day[(month, weekday)][(start, end)].append(tier)
    return by_day


def tariff_week_profile(*, rules: Iterable[RuleLike]) -> WeekProfile:
    """Every (month, weekday) mapped to its windows in time order, tiers sorted (open top last).

    Assumes a valid rule set (see `tariff_rules_validate`); on an invalid one the windows are
    whatever the rules say, gaps and overlaps included.
    """
    profile: WeekProfile = {}
    for key, windows in _windows_by_day(rules).items():
        profile[key] = tuple(
            Window(start=start, end=end, tiers=tuple(sorted(tiers, key=_tier_sort_key)))
            for (start, end), tiers in sorted(windows.items())
        )
    return profile


# --- Validation ------------------------------------------------------------------------------


def months_label(months: Iterable[int]) -> str:
    months = sorted(set(months))
    if set(months) == ALL_MONTHS:
        return _("every month")
    return ", ".join(MONTH_LABELS[m - 1] for m in months)


def days_label(weekdays: Iterable[int]) -> str:
    days = frozenset(weekdays)
    if days == ALL_DAYS:
        return _("every day")
    if days == WEEKDAYS:
        return _("weekdays")
    if days == WEEKEND:
        return _("weekends")
    return ", ".join(WEEKDAY_CODES[d].title() for d in sorted(days))


def _problems_for_day(windows: dict[tuple[int, int], list[Tier]]) -> list[tuple[str, int, int]]:
    """(kind, start, end) for one (month, weekday): gaps, overlaps and bad tier sets."""
    problems: list[tuple[str, int, int]] = []
    for (start, end), tiers in windows.items():
        if len(tiers) > 1:
            ceilings = [t.to_kwh for t in tiers]
            if ceilings.count(None) != 1:
                problems.append(("tiers_open", start, end))
            closed = [c for c in ceilings if c is not None]
            if len(set(closed)) != len(closed):
                problems.append(("tiers_duplicate", start, end))
        elif tiers[0].to_kwh is not None:
            problems.append(("tiers_open", start, end))
    covered_to = 0
    for start, end in sorted(windows):
        if start > covered_to:
            problems.append(("gap", covered_to, start))
        elif start < covered_to:
            problems.append(("overlap", start, min(end, covered_to)))
        covered_to = max(covered_to, end)
    if covered_to < MINUTES_PER_DAY:
        problems.append(("gap", covered_to, MINUTES_PER_DAY))
    return problems


_PROBLEM_MESSAGES = {
    "gap": gettext_noop("No rate from %(start)s to %(end)s in %(months)s on %(days)s."),
    "overlap": gettext_noop(
        "More than one rate from %(start)s to %(end)s in %(months)s on %(days)s "
        "(windows overlap; consumption tiers must share exactly the same window)."
    ),
    "tiers_open": gettext_noop(
        "The rates from %(start)s to %(end)s in %(months)s on %(days)s need exactly "
        "one tier without a ceiling (the top tier)."
    ),
    "tiers_duplicate": gettext_noop(
        "Two tiers from %(start)s to %(end)s in %(months)s on %(days)s have the same ceiling."
    ),
}


def tariff_rules_problems(*, rules: Iterable[RuleLike]) -> list[str]:
    """Human-readable problems of a rule set; empty when every instant has exactly one rate.

    Every (month, weekday, minute) must be covered by exactly one window. Several rules may share
    a window only as consumption tiers: distinct `tier_to_kwh` and exactly one open (null) top.
    Problems are grouped so one mistake reads as one message naming months, days and times.
    """
    by_day = _windows_by_day(rules)
    # (kind, start, end) -> month -> weekdays
    found: dict[tuple[str, int, int], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for month in range(1, 13):
        for weekday in range(7):
            windows = by_day.get((month, weekday), {})
            if not windows:
                found[("gap", 0, MINUTES_PER_DAY)][month].add(weekday)
                continue
            for kind, start, end in _problems_for_day(windows):
                found[(kind, start, end)][month].add(weekday)
    messages: list[str] = []
    for (kind, start, end), months in sorted(found.items(), key=lambda item: item[0][1:]):
        # Months with the same set of days read as one sentence.
        by_days: dict[frozenset[int], list[int]] = defaultdict(list)
        for month, days in sorted(months.items()):
            by_days[frozenset(days)].append(month)
        for day_set, month_list in by_days.items():
            messages.append(
                _(_PROBLEM_MESSAGES[kind])
                % {
                    "start": minutes_to_wall_clock(start),
                    "end": minutes_to_wall_clock(end),
                    "months": months_label(month_list),
                    "days": days_label(day_set),
                }
            )
    return messages


def tariff_rules_validate(*, rules: Iterable[RuleLike]) -> None:
    """Raise ValidationError (one message per problem) unless every instant has one rate."""
    problems = tariff_rules_problems(rules=rules)
    if problems:
        raise ValidationError(problems, code="tariff_rules")


# --- Week profile grouping ----------------------------------------------------------------


def day_groups(profile: WeekProfile, month: int) -> list[tuple[list[int], DayProfile]]:
    """The weekdays of a month grouped by identical day profile, in weekday order."""
    groups: dict[DayProfile, list[int]] = {}
    for weekday in range(7):
        groups.setdefault(profile.get((month, weekday), ()), []).append(weekday)
    return [(days, day) for day, days in groups.items()]


# --- Concrete rates over real time ---------------------------------------------------------


def utc_offset_segments(
    zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """Split [start, end) into stretches of constant UTC offset (DST transitions cut them)."""

    def offset(instant: dt.datetime) -> dt.timedelta:
        return instant.astimezone(zone).utcoffset() or dt.timedelta(0)

    segments = []
    seg_start, seg_offset = start, offset(start)
    probe = start
    # Real zones change offset at most a few times a year and never twice within a day, so a
    # daily probe plus a binary search finds every transition (to the second) cheaply.
    step = dt.timedelta(days=1)
    while probe < end:
        nxt = min(probe + step, end)
        if offset(nxt) != seg_offset:
            low, high = probe, nxt  # offset(low) == seg_offset, offset(high) differs
            while high - low > dt.timedelta(seconds=1):
                mid = low + (high - low) / 2
                if offset(mid) == seg_offset:
                    low = mid
                else:
                    high = mid
            if high < end:
                segments.append((seg_start, high, seg_offset))
                seg_start, seg_offset = high, offset(high)
        probe = nxt
    segments.append((seg_start, end, seg_offset))
    return [s for s in segments if s[0] < s[1]]


def tariff_rates_between(
    *, rules: Iterable[RuleLike], timezone: str, start: dt.datetime, end: dt.datetime
) -> list[RateInterval]:
    """The concrete unit rate of every moment of [start, end), as contiguous UTC intervals.

    `start` and `end` must be timezone-aware. Returns `RateInterval(start, end, unit_rate,
    tiers)` in time order with aware UTC datetimes, adjacent intervals with the same rate (and
    tiers) merged. Wall-clock windows of `rules` (a valid rule set) are applied in the zone named
    `timezone`, so across a DST change a window covers its real length: in Europe/London
    "00:30–07:30" lasts 6 hours on 2026-03-29 and 8 hours on 2026-10-25.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("tariff_rates_between needs timezone-aware datetimes")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.year < 2 or end.year > 9998:
        raise ValueError("tariff_rates_between works between the years 2 and 9998")
    if end <= start:
        return []
    zone = ZoneInfo(timezone)
    profile = tariff_week_profile(rules=rules)
    pieces: list[RateInterval] = []
    for seg_start, seg_end, offset in utc_offset_segments(zone, start, end):
        local_start = (seg_start + offset).replace(tzinfo=None)
        local_end = (seg_end + offset).replace(tzinfo=None)
        day = local_start.date()
        while dt.datetime.combine(day, dt.time()) < local_end:
            midnight = dt.datetime.combine(day, dt.time())
            for window in profile.get((day.month, day.weekday()), ()):
                w_start = max(midnight + dt.timedelta(minutes=window.start), local_start)
                w_end = min(midnight + dt.timedelta(minutes=window.end), local_end)
                if w_start < w_end:
                    pieces.append(
                        RateInterval(
                            start=(w_start - offset).replace(tzinfo=UTC),
                            end=(w_end - offset).replace(tzinfo=UTC),
                            unit_rate=window.unit_rate,
                            tiers=window.tiers,
                        )
                    )
            day += dt.timedelta(days=1)
    return _merge(pieces)


def _merge(pieces: Sequence[RateInterval]) -> list[RateInterval]:
    merged: list[RateInterval] = []
    for piece in sorted(pieces, key=lambda p: p.start):
        last = merged[-1] if merged else None
        if last and last.end == piece.start and last.tiers == piece.tiers:
            merged[-1] = RateInterval(
                start=last.start, end=piece.end, unit_rate=last.unit_rate, tiers=last.tiers
            )
        else:
            merged.append(piece)
    return merged


__all__ = [
    "RateInterval",
    "RuleLike",
    "Tier",
    "Window",
    "day_groups",
    "tariff_rates_between",
    "tariff_rules_problems",
    "tariff_rules_validate",
    "tariff_week_profile",
]
