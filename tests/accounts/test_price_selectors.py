"""The concrete prices of published and market-indexed tariffs as read from the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Pricing, Tariff
from accounts.price_import import price_import_target, prices_import
from accounts.price_selectors import price_publication_state, tariff_prices_between
from tests.accounts.price_files import ENTSOE_SAMPLE, OCTOPUS_SAMPLE, csv_of, day_rows

UTC = dt.UTC
pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def agile(make_tariff):
    tariff = make_tariff(name="Agile")
    tariff.pricing = Pricing.PUBLISHED
    tariff.prices_publish_time = dt.time(16, 0)
    tariff.save()
    return tariff


@pytest.fixture
def berlin_dynamic(make_market_tariff):
    return make_market_tariff(
        bands=[("00:00", "06:00", "0.10", "0.19"), ("06:00", "24:00", "0.15", "0.19")],
        prices_publish_time=dt.time(13, 0),
    )


def publish(tariff, data: bytes, file_format="csv", now=None):
    prices_import(
        data=data,
        file_format=file_format,
        target=price_import_target(tariff=tariff),
        now=now or at("2026-01-14T16:05Z"),
    )


def test_published_prices_cover_only_what_is_published(agile, django_assert_num_queries):
    publish(agile, OCTOPUS_SAMPLE.read_bytes(), "octopus")
    with django_assert_num_queries(2):
        series = tariff_prices_between(
            tariff=agile,
            start=at("2026-01-15T12:00Z"),
            end=at("2026-01-16T12:00Z"),
            now=at("2026-01-15T12:00Z"),
        )
    assert len(series.intervals) == 24  # 12:00–24:00, nothing invented after
    assert series.intervals[0].valid_from == at("2026-01-15T12:00Z")
    assert series.intervals[-1].valid_to == at("2026-01-16T00:00Z")
    assert series.published_until == at("2026-01-16T00:00Z")
    assert series.last_updated == at("2026-01-14T16:05Z")
    assert series.next_update == at("2026-01-15T16:00Z")  # tomorrow's prices at 16:00 local


def test_a_range_entirely_in_the_future_has_no_intervals_and_says_how_far_prices_go(agile):
    publish(agile, OCTOPUS_SAMPLE.read_bytes(), "octopus")
    series = tariff_prices_between(
        tariff=agile, start=at("2026-01-17T00:00Z"), end=at("2026-01-18T00:00Z")
    )
    assert series.intervals == ()
    assert series.published_until == at("2026-01-16T00:00Z")


def test_the_negative_half_hour_is_served_negative(agile):
    publish(agile, OCTOPUS_SAMPLE.read_bytes(), "octopus")
    series = tariff_prices_between(
        tariff=agile, start=at("2026-01-15T03:00Z"), end=at("2026-01-15T04:30Z")
    )
    assert [i.rate for i in series.intervals][1] == Decimal("-0.02205")


def test_publishing_tomorrow_moves_next_update_and_published_until(agile):
    publish(agile, csv_of(day_rows(dt.date(2026, 3, 28), "Europe/London", 30)))
    now = at("2026-03-28T12:00Z")
    before = tariff_prices_between(
        tariff=agile, start=at("2026-03-28T00:00Z"), end=at("2026-03-30T00:00Z"), now=now
    )
    assert before.next_update == at("2026-03-28T16:00Z")  # 16:00 GMT
    # Sunday 29 March is 23 hours long (46 half-hours); publishing it at 16:10 on Saturday
    publish(
        agile,
        csv_of(day_rows(dt.date(2026, 3, 29), "Europe/London", 30)),
        now=at("2026-03-28T16:10Z"),
    )
    after = tariff_prices_between(
        tariff=agile,
        start=at("2026-03-28T00:00Z"),
        end=at("2026-03-30T00:00Z"),
        now=at("2026-03-28T16:15Z"),
    )
    assert len(after.intervals) == 48 + 46
    assert after.published_until == at("2026-03-29T23:00Z")  # midnight BST
    assert after.next_update == at("2026-03-29T15:00Z")  # 16:00 BST
    assert after.last_updated == at("2026-03-28T16:10Z")


def test_market_indexed_prices_from_the_entsoe_sample_match_hand_computed_values(
    berlin_dynamic, django_assert_num_queries
):
    prices_import(
        data=ENTSOE_SAMPLE.read_bytes(),
        file_format="entsoe",
        target=price_import_target(zone="DE-LU"),
        now=at("2026-01-14T12:58Z"),
    )
    tariff = Tariff.objects.prefetch_related("rules").get(pk=berlin_dynamic.pk)
    with django_assert_num_queries(2):
        series = tariff_prices_between(
            tariff=tariff,
            start=at("2026-01-14T23:00Z"),
            end=at("2026-01-15T23:00Z"),
            now=at("2026-01-15T09:00Z"),
        )
    assert len(series.intervals) == 96
    rates = {i.valid_from: i.rate for i in series.intervals}
    # position 1 (00:00 Berlin): 78.0 €/MWh, night band (0.10, 19 %): (0.078 + 0.10) × 1.19
    assert rates[at("2026-01-14T23:00Z")] == Decimal("0.21182")
    # position 36 (08:45 Berlin) 103.54 and omitted position 37 (09:00) repeats it, day band:
    # (0.10354 + 0.15) × 1.19 = 0.3017126
    assert rates[at("2026-01-15T07:45Z")] == Decimal("0.3017126")
    assert rates[at("2026-01-15T08:00Z")] == Decimal("0.3017126")
    # the band changes at 06:00 Berlin = 05:00Z: position 24 (05:45) 84.29 €/MWh at night,
    # (0.08429 + 0.10) × 1.19; position 25 (06:00) 87.54 €/MWh by day, (0.08754 + 0.15) × 1.19
    assert rates[at("2026-01-15T04:45Z")] == Decimal("0.2193051")
    assert rates[at("2026-01-15T05:00Z")] == Decimal("0.2826726")
    assert series.published_until == at("2026-01-15T23:00Z")
    assert series.last_updated == at("2026-01-14T12:58Z")
    assert series.next_update == at("2026-01-15T12:00Z")  # 13:00 CET


def test_market_indexed_prices_ignore_wholesale_prices_in_another_currency(berlin_dynamic):
    prices_import(
        data=ENTSOE_SAMPLE.read_bytes(),
        file_format="entsoe",
        target=price_import_target(zone="DE-LU"),
    )
    berlin_dynamic.currency = "GBP"
    series = tariff_prices_between(
        tariff=berlin_dynamic, start=at("2026-01-14T23:00Z"), end=at("2026-01-15T23:00Z")
    )
    assert series.intervals == ()


def test_a_schedule_tariff_has_no_price_series(make_tariff):
    with pytest.raises(ValueError, match="schedule"):
        tariff_prices_between(
            tariff=make_tariff(), start=at("2026-01-15T00:00Z"), end=at("2026-01-16T00:00Z")
        )


def test_publication_state_is_empty_before_anything_is_published(agile):
    state = price_publication_state(tariff=agile)
    assert (state.days, state.versions, state.last_updated, state.published_until) == (
        0,
        0,
        None,
        None,
    )
    assert state.tag == "0.0.0"


def test_a_market_indexed_tariff_needs_a_bidding_zone(make_tariff):
    from django.core.exceptions import ValidationError

    tariff = make_tariff()
    tariff.pricing = Pricing.MARKET_INDEXED
    with pytest.raises(ValidationError) as caught:
        tariff.full_clean()
    assert "bidding_zone" in caught.value.message_dict
    tariff.bidding_zone = "XX"
    with pytest.raises(ValidationError):
        tariff.full_clean()
    tariff.bidding_zone = "GB"
    tariff.full_clean()


def test_existing_tariffs_stay_on_their_schedule_and_include_vat(make_tariff):
    tariff = make_tariff()
    assert tariff.pricing == Pricing.SCHEDULE
    assert tariff.prices_include_vat is True
    assert tariff.bidding_zone == "" and tariff.prices_publish_time is None


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("model", "index", "filters"),
    [
        (
            "accounts_publishedprice",
            "accounts_published_price_unique",
            "tariff_id = 1 AND region = ''",
        ),
        ("accounts_wholesaleprice", "accounts_wholesale_price_unique", "zone = 'DE-LU'"),
    ],
)
def test_a_range_of_prices_is_one_index_scan_in_time_order(model, index, filters):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            f"EXPLAIN SELECT valid_from, valid_to FROM {model} WHERE {filters} "  # noqa: S608
            "AND valid_from >= '2026-01-15T00:00Z' AND valid_from < '2026-01-16T00:00Z' "
            "ORDER BY valid_from"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {index}" in plan, plan
    assert "Sort" not in plan, plan
