"""Rate arithmetic of published and market-indexed tariffs: exact decimals, DST-correct times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from accounts.prices import (
    Surcharge,
    market_indexed_intervals,
    market_rate,
    next_update_at,
    per_mwh_to_per_kwh,
    published_intervals,
    surcharge_bands_between,
)

UTC = dt.UTC
FIFTEEN = dt.timedelta(minutes=15)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def band_rule(valid_from, valid_to, fixed, percentage, weekdays=range(7), months=range(1, 13)):
    return SimpleNamespace(
        months=list(months),
        weekdays=list(weekdays),
        valid_from=valid_from,
        valid_to=valid_to,
        surcharge_fixed=Decimal(fixed),
        surcharge_percentage=Decimal(percentage),
    )


def test_per_mwh_to_per_kwh_is_an_exact_decimal_shift():
    assert per_mwh_to_per_kwh(Decimal("123.456")) == Decimal("0.123456")
    assert per_mwh_to_per_kwh(Decimal("0.01")) == Decimal("0.00001")
    assert per_mwh_to_per_kwh(Decimal("-500")) == Decimal("-0.5")
    # No binary float anywhere: a third of a cent per MWh survives to the last digit.
    assert str(per_mwh_to_per_kwh(Decimal("33.333333"))) == "0.033333333"


@pytest.mark.parametrize(
    ("wholesale", "fixed", "percentage", "expected"),
    [
        # (85.12 / 1000 + 0.12) × 1.05 = 0.20512 × 1.05
        ("85.12", "0.12", "0.05", "0.2153760"),
        # (-12.5 / 1000 + 0.10) × 1.19 = 0.0875 × 1.19: a negative wholesale price stays exact
        ("-12.5", "0.10", "0.19", "0.104125"),
        # (-250 / 1000 + 0.05) × 1.19 = -0.2 × 1.19: the rate itself may be negative
        ("-250", "0.05", "0.19", "-0.238"),
        # no surcharges: the wholesale price per kWh
        ("97.31", "0", "0", "0.09731"),
    ],
)
def test_market_rate_adds_the_fixed_surcharge_before_the_percentage(
    wholesale, fixed, percentage, expected
):
    rate = market_rate(
        wholesale_per_mwh=Decimal(wholesale),
        surcharge_fixed=Decimal(fixed),
        surcharge_percentage=Decimal(percentage),
    )
    assert rate == Decimal(expected)
    # percentage-first would give a different number: the order is part of the contract
    wrong = per_mwh_to_per_kwh(Decimal(wholesale)) * (1 + Decimal(percentage)) + Decimal(fixed)
    if Decimal(percentage) and Decimal(fixed):
        assert rate != wrong


def test_published_intervals_are_cut_to_the_range_and_keep_negative_prices():
    rows = [
        (at("2026-01-15T00:00Z"), at("2026-01-15T00:30Z"), Decimal("0.10")),
        (at("2026-01-15T00:30Z"), at("2026-01-15T01:00Z"), Decimal("-0.02205")),
    ]
    got = published_intervals(rows=rows, start=at("2026-01-15T00:15Z"), end=at("2026-01-15T02:00Z"))
    assert [(i.valid_from, i.valid_to, i.rate) for i in got] == [
        (at("2026-01-15T00:15Z"), at("2026-01-15T00:30Z"), Decimal("0.10")),
        (at("2026-01-15T00:30Z"), at("2026-01-15T01:00Z"), Decimal("-0.02205")),
    ]


def test_market_indexed_intervals_split_an_hour_at_a_band_boundary():
    rules = [
        band_rule("00:00", "16:30", "0.10", "0.19"),
        band_rule("16:30", "24:00", "0.20", "0.19"),
    ]
    start, end = at("2026-01-15T15:00Z"), at("2026-01-15T17:00Z")  # 16:00–18:00 in Berlin
    bands = surcharge_bands_between(rules=rules, timezone="Europe/Berlin", start=start, end=end)
    wholesale = [
        (at("2026-01-15T15:00Z"), at("2026-01-15T16:00Z"), Decimal("100")),
        (at("2026-01-15T16:00Z"), at("2026-01-15T17:00Z"), Decimal("-20")),
    ]
    got = market_indexed_intervals(wholesale=wholesale, bands=bands, start=start, end=end)
    assert [(i.valid_from, i.valid_to, i.rate) for i in got] == [
        (at("2026-01-15T15:00Z"), at("2026-01-15T15:30Z"), Decimal("0.238")),  # (0.1 + 0.1) × 1.19
        (at("2026-01-15T15:30Z"), at("2026-01-15T16:00Z"), Decimal("0.357")),  # (0.1 + 0.2) × 1.19
        (
            at("2026-01-15T16:00Z"),
            at("2026-01-15T17:00Z"),
            Decimal("0.2142"),
        ),  # (-0.02 + 0.2) × 1.19
    ]


def test_market_indexed_intervals_never_invent_a_missing_wholesale_price():
    rules = [band_rule("00:00", "24:00", "0.10", "0")]
    start, end = at("2026-01-15T00:00Z"), at("2026-01-15T01:00Z")
    bands = surcharge_bands_between(rules=rules, timezone="Europe/Berlin", start=start, end=end)
    wholesale = [(start, start + FIFTEEN, Decimal("50")), (start + 3 * FIFTEEN, end, Decimal("60"))]
    got = market_indexed_intervals(wholesale=wholesale, bands=bands, start=start, end=end)
    assert [(i.valid_from, i.rate) for i in got] == [
        (start, Decimal("0.15")),
        (start + 3 * FIFTEEN, Decimal("0.16")),
    ]


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2026-03-29", 6), ("2026-10-25", 8), ("2026-01-15", 7)],
)
def test_a_surcharge_band_covers_its_real_length_across_a_london_dst_change(day, hours):
    rules = [band_rule("00:00", "07:00", "0.01", "0"), band_rule("07:00", "24:00", "0.02", "0")]
    start = dt.datetime.fromisoformat(f"{day}T00:00").replace(tzinfo=UTC) - dt.timedelta(hours=2)
    end = start + dt.timedelta(days=1, hours=4)
    bands = surcharge_bands_between(rules=rules, timezone="Europe/London", start=start, end=end)
    night = [b for b in bands if b[2] == Surcharge(Decimal("0.01"), Decimal("0"))]
    lengths = [b[1] - b[0] for b in night]
    assert dt.timedelta(hours=hours) in lengths


LONDON_1600 = dt.time(16, 0)
BERLIN_1300 = dt.time(13, 0)
RETRY = dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("timezone", "publish", "now", "published_until", "expected"),
    [
        # London, spring forward on 2026-03-29. Tomorrow's prices due at 16:00 local:
        # on the 28th (GMT) that is 16:00Z …
        (
            "Europe/London",
            LONDON_1600,
            "2026-03-28T10:00Z",
            "2026-03-29T00:00Z",
            "2026-03-28T16:00Z",
        ),
        # … on the 29th (BST) it is 15:00Z, a day of 23 hours later.
        (
            "Europe/London",
            LONDON_1600,
            "2026-03-29T10:00Z",
            "2026-03-29T23:00Z",
            "2026-03-29T15:00Z",
        ),
        # London, fall back on 2026-10-25: 16:00 BST on the 24th, 16:00 GMT on the 25th.
        (
            "Europe/London",
            LONDON_1600,
            "2026-10-24T09:00Z",
            "2026-10-25T00:00+01:00",
            "2026-10-24T15:00Z",
        ),
        (
            "Europe/London",
            LONDON_1600,
            "2026-10-25T09:00Z",
            "2026-10-26T00:00Z",
            "2026-10-25T16:00Z",
        ),
        # Berlin at 13:00: CET 12:00Z, CEST 11:00Z, either side of 2026-03-29 and 2026-10-25.
        (
            "Europe/Berlin",
            BERLIN_1300,
            "2026-03-28T08:00Z",
            "2026-03-28T23:00Z",
            "2026-03-28T12:00Z",
        ),
        (
            "Europe/Berlin",
            BERLIN_1300,
            "2026-03-29T08:00Z",
            "2026-03-29T22:00Z",
            "2026-03-29T11:00Z",
        ),
        (
            "Europe/Berlin",
            BERLIN_1300,
            "2026-10-25T08:00Z",
            "2026-10-25T23:00Z",
            "2026-10-25T12:00Z",
        ),
        # Tomorrow already published: the next update is tomorrow's publication (for the day after).
        (
            "Europe/London",
            LONDON_1600,
            "2026-01-15T17:00Z",
            "2026-01-17T00:00Z",
            "2026-01-16T16:00Z",
        ),
        # Nothing published yet: today's publication time.
        ("Europe/London", LONDON_1600, "2026-01-15T09:00Z", None, "2026-01-14T16:00Z+late"),
    ],
)
def test_next_update_is_the_local_publication_time_dst_correct(
    timezone, publish, now, published_until, expected
):
    now_at = at(now)
    got = next_update_at(
        now=now_at,
        timezone=timezone,
        publish_time=publish,
        published_until=at(published_until) if published_until else None,
        late_retry=RETRY,
    )
    if expected.endswith("+late"):
        assert got == now_at + RETRY
    else:
        assert got == at(expected)


def test_next_update_when_the_publisher_is_late_asks_again_soon():
    now = at("2026-01-15T17:00Z")  # tomorrow was due at 16:00, only today is published
    got = next_update_at(
        now=now,
        timezone="Europe/London",
        publish_time=LONDON_1600,
        published_until=at("2026-01-16T00:00Z"),
        late_retry=RETRY,
    )
    assert got == now + RETRY


def test_prices_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        published_intervals(rows=[], start=dt.datetime(2026, 1, 1), end=at("2026-01-02T00:00Z"))  # noqa: DTZ001
