"""Property tests: for any valid day schedule, any zone and any period, the rates returned cover the
period exactly and each interval carries the rate an independent wall-clock lookup gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import TariffRule
from accounts.tariffs import tariff_rates_between, tariff_rules_problems

# hypothesis takes naive bounds and attaches the zone itself.
FIRST = dt.datetime(2025, 1, 1)  # noqa: DTZ001
LAST = dt.datetime(2027, 12, 31)  # noqa: DTZ001
ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kolkata",  # no DST, +05:30
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Sao_Paulo",
]


@st.composite
def schedules(draw):
    cuts = sorted(draw(st.sets(st.integers(1, 47), max_size=6)))
    bounds = [0, *[c * 30 for c in cuts], 1440]
    weekend_differs = draw(st.booleans())
    rules = []
    for days in [list(range(5)), [5, 6]] if weekend_differs else [list(range(7))]:
        for start, end in zip(bounds, bounds[1:], strict=False):
            rate = Decimal(draw(st.integers(1, 4))) / 10
            rules.append(
                TariffRule(
                    months=list(range(1, 13)),
                    weekdays=days,
                    valid_from=f"{start // 60:02d}:{start % 60:02d}",
                    valid_to=f"{end // 60:02d}:{end % 60:02d}",
                    unit_rate=rate,
                )
            )
    return rules


def _rate_at(rules, zone: ZoneInfo, instant: dt.datetime) -> Decimal:
    local = instant.astimezone(zone)
    minute = local.hour * 60 + local.minute + local.second / 60
    for rule in rules:
        start = int(rule.valid_from[:2]) * 60 + int(rule.valid_from[3:])
        end = int(rule.valid_to[:2]) * 60 + int(rule.valid_to[3:])
        if local.weekday() in rule.weekdays and start <= minute < end:
            return rule.unit_rate
    raise AssertionError(f"no rule for {local}")


@settings(max_examples=150, deadline=None)
@given(
    rules=schedules(),
    zone_name=st.sampled_from(ZONES),
    start=st.datetimes(FIRST, LAST, timezones=st.just(dt.UTC)),
    length_minutes=st.integers(1, 10 * 24 * 60),
)
def test_rates_cover_the_period_and_match_the_wall_clock(rules, zone_name, start, length_minutes):
    assert tariff_rules_problems(rules=rules) == []
    end = start + dt.timedelta(minutes=length_minutes)
    rates = tariff_rates_between(rules=rules, timezone=zone_name, start=start, end=end)
    assert rates[0].start == start
    assert rates[-1].end == end
    zone = ZoneInfo(zone_name)
    for before, after in zip(rates, rates[1:], strict=False):
        assert before.end == after.start
        assert before.unit_rate != after.unit_rate  # equal neighbours are merged
    for interval in rates:
        assert interval.start < interval.end
        # Sample the start, the middle and the last second of every interval.
        for instant in (
            interval.start,
            interval.start + (interval.end - interval.start) / 2,
            interval.end - dt.timedelta(seconds=1),
        ):
            if start <= instant < end:
                assert _rate_at(rules, zone, instant) == interval.unit_rate
