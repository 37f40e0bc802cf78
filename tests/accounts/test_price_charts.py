"""Charts of published and market-indexed tariffs: today, tomorrow once published, negative
prices below zero, a text alternative naming the cheapest and dearest windows."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.charts import tariff_chart_build
from accounts.models import Pricing
from accounts.price_import import price_import_target, prices_import
from tests.accounts.price_files import csv_of, day_rows

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
DAY = dt.date(2026, 1, 15)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def agile(make_tariff):
    tariff = make_tariff(name="Agile", rules=[("00:00", "24:00", "0")])
    tariff.pricing = Pricing.PUBLISHED
    tariff.save()
    return tariff


def price(i: int) -> Decimal:
    # Cheap at 02:00–03:00, a negative half hour at 13:30, dear 17:00–18:00.
    if i == 27:
        return Decimal("-0.0500")
    if i in (4, 5):
        return Decimal("0.0500")
    if i in (34, 35):
        return Decimal("0.4000")
    return Decimal("0.2000")


def publish(tariff, day: dt.date) -> None:
    prices_import(
        data=csv_of(day_rows(day, "Europe/London", 30, price=price)),
        file_format="csv",
        target=price_import_target(tariff=tariff),
        now=dt.datetime(2026, 1, 14, 16, tzinfo=dt.UTC),
    )


def test_today_only_until_tomorrow_is_published(agile):
    publish(agile, DAY)
    chart = tariff_chart_build(tariff=agile, on=DAY)
    [today] = chart.panels
    assert today.title.startswith("Today")
    publish(agile, DAY + dt.timedelta(days=1))
    chart = tariff_chart_build(tariff=agile, on=DAY)
    assert [p.title.split(",")[0] for p in chart.panels] == ["Today", "Tomorrow"]


def test_the_text_alternative_names_the_cheapest_and_dearest_windows(agile):
    publish(agile, DAY)
    [panel] = tariff_chart_build(tariff=agile, on=DAY).panels
    assert panel.summary == (
        "Cheapest -£0.0500 per kWh (13:30 to 14:00); dearest £0.4000 per kWh (17:00 to 18:00)."
    )
    root = ET.fromstring(str(panel.svg))  # noqa: S314 - our own output
    assert "dearest £0.4000 per kWh (17:00 to 18:00)" in root.get("aria-label")
    assert ("13:30", "14:00") in [(r.start, r.end) for r in panel.rows]


def test_a_negative_price_is_drawn_below_the_zero_line(agile):
    publish(agile, DAY)
    [panel] = tariff_chart_build(tariff=agile, on=DAY).panels
    root = ET.fromstring(str(panel.svg))  # noqa: S314 - our own output
    [zero] = [line for line in root.iter(f"{SVG}line") if "chart-zero" in line.get("class")]
    zero_y = float(zero.get("y1"))
    line = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "chart-line")
    ys = [float(v) for v in re.findall(r"V(-?[\d.]+)", line.get("d"))]
    assert max(ys) > zero_y  # SVG y grows downwards: below the zero line
    assert min(ys) < zero_y


def test_no_prices_today_says_so_and_invents_nothing(agile):
    [panel] = tariff_chart_build(tariff=agile, on=DAY).panels
    assert panel.summary == "No prices are published for this day yet."
    assert panel.rows == ()


def test_a_market_indexed_chart_and_its_german_text(make_market_tariff):
    tariff = make_market_tariff(bands=[("00:00", "24:00", "0.10", "0")])
    prices_import(
        data=csv_of(
            day_rows(DAY, "Europe/Berlin", 15, price=lambda i: Decimal(-300 if i < 4 else 50))
        ),
        file_format="csv",
        target=price_import_target(zone="DE-LU"),
        now=dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC),
    )
    with translation.override("de"):
        chart = tariff_chart_build(tariff=tariff, on=DAY)
        [panel] = chart.panels
        assert panel.title.startswith("Heute")
        assert "Am günstigsten" in panel.summary
        assert "00:00 bis 01:00" in panel.summary
        assert "Großhandel" in chart.note


def test_the_account_page_draws_todays_published_prices(client, agile, make_contract):
    from django.urls import reverse
    from django.utils import timezone

    contract = make_contract(tariff=agile)
    from zoneinfo import ZoneInfo

    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    for day in (today - dt.timedelta(days=1), today, today + dt.timedelta(days=1)):
        publish(agile, day)
    client.force_login(contract.premise.customer)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Today" in page and "Tomorrow" in page
    assert "Cheapest -£0.0500 per kWh (13:30 to 14:00)" in page
