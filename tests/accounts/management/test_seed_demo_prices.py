"""The demo's dynamic-price customers: current published and market-indexed prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Direction, Premise, PricePublication, Pricing, Tariff
from accounts.price_selectors import tariff_prices_between
from accounts.prices import local_day_bounds
from accounts.selectors import contract_get_active

pytestmark = pytest.mark.django_db


def test_dana_is_on_published_prices_for_yesterday_today_and_tomorrow_with_a_negative_half_hour():
    call_command("seed_demo")
    dana = Premise.objects.get(reference="PRM-000005")
    tariff = contract_get_active(premise=dana, direction=Direction.IMPORT).tariff
    assert tariff.pricing == Pricing.PUBLISHED and tariff.currency == "GBP"
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    start, _ = local_day_bounds(day=today - dt.timedelta(days=1), timezone="Europe/London")
    _, end = local_day_bounds(day=today + dt.timedelta(days=1), timezone="Europe/London")
    series = tariff_prices_between(tariff=tariff, start=start, end=end)
    assert series.intervals[0].valid_from == start and series.intervals[-1].valid_to == end
    assert series.published_until == end
    for offset in (-1, 0, 1):
        day_start, day_end = local_day_bounds(
            day=today + dt.timedelta(days=offset), timezone="Europe/London"
        )
        rates = [i.rate for i in series.intervals if day_start <= i.valid_from < day_end]
        assert any(rate < 0 for rate in rates)


def test_erik_is_on_a_market_indexed_tariff_with_todays_quarter_hours_in_berlin():
    call_command("seed_demo")
    erik = Premise.objects.get(reference="PRM-000006")
    assert erik.country_code == "DE"
    tariff = Tariff.objects.prefetch_related("rules").get(
        pk=contract_get_active(premise=erik, direction=Direction.IMPORT).tariff_id
    )
    assert (tariff.pricing, tariff.bidding_zone, tariff.currency, tariff.timezone) == (
        Pricing.MARKET_INDEXED,
        "DE-LU",
        "EUR",
        "Europe/Berlin",
    )
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    start, end = local_day_bounds(day=today, timezone="Europe/Berlin")
    series = tariff_prices_between(tariff=tariff, start=start, end=end)
    assert len(series.intervals) == (end - start) // dt.timedelta(minutes=15)
    # 00:00 Berlin takes the sample's first price, 78.0 €/MWh, night band (0.12, 19 %)
    assert series.intervals[0].rate == (Decimal("0.078") + Decimal("0.12")) * Decimal("1.19")


def test_seeding_again_does_not_republish_prices():
    call_command("seed_demo")
    first = sorted(PricePublication.objects.values_list("pk", "version", "published_at"))
    call_command("seed_demo")
    assert sorted(PricePublication.objects.values_list("pk", "version", "published_at")) == first
    assert {version for _, version, _ in first} == {1}
