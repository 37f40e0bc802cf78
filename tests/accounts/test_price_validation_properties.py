"""Properties of price-file validation over any local day, zone and resolution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.price_import import PriceErrors, PriceTarget, RawInterval, prices_validate
from tests.accounts.price_files import day_bounds, day_rows

ZONES = {"Europe/London": ("GB", "GBP"), "Europe/Berlin": ("DE-LU", "EUR")}
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


def _target(timezone: str) -> PriceTarget:
    zone, currency = ZONES[timezone]
    return PriceTarget(None, zone, "", timezone, currency)


def _raw(rows) -> list[RawInterval]:
    return [RawInterval(f"line {n + 2}", a, b, v) for n, (a, b, v) in enumerate(rows)]


@settings(max_examples=150, deadline=None)
@given(day=days, timezone=st.sampled_from(sorted(ZONES)), minutes=st.sampled_from([15, 30, 60]))
def test_every_whole_local_day_is_accepted_with_one_interval_per_step(day, timezone, minutes):
    rows = day_rows(day, timezone, minutes, price=lambda i: Decimal(i % 50) - 10)
    errors = PriceErrors()
    grouped = prices_validate(intervals=_raw(rows), target=_target(timezone), errors=errors)
    assert errors.items == []
    start, end = day_bounds(day, timezone)
    assert list(grouped) == [day]
    assert len(grouped[day]) == (end - start) // dt.timedelta(minutes=minutes)


@settings(max_examples=150, deadline=None)
@given(
    day=days,
    timezone=st.sampled_from(sorted(ZONES)),
    minutes=st.sampled_from([15, 30, 60]),
    data=st.data(),
)
def test_any_missing_interval_is_refused_at_its_place(day, timezone, minutes, data):
    rows = day_rows(day, timezone, minutes, price=lambda i: Decimal(1))
    missing = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    kept = _raw(rows)
    del kept[missing]
    errors = PriceErrors()
    prices_validate(intervals=kept, target=_target(timezone), errors=errors)
    assert errors.items  # never silently accepted
    if 0 < missing < len(rows) - 1:
        assert any(e.startswith(f"line {missing + 3}: gap: ") for e in errors.items)
