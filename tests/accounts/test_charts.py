from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from accounts.charts import tariff_chart_build
from tests.accounts.tariff_rules import ECONOMY_7, EV_FLEX

SVG = "{http://www.w3.org/2000/svg}"
JULY = dt.date(2026, 7, 1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def parse_svg(panel) -> ET.Element:
    root = ET.fromstring(str(panel.svg))  # noqa: S314 - our own output; must be well-formed
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    return root


@pytest.mark.django_db
def test_fixed_saver_is_one_flat_every_day_panel(make_tariff):
    chart = tariff_chart_build(tariff=make_tariff(), on=JULY)
    [panel] = chart.panels
    assert panel.title == "Every day"
    assert panel.summary == "£0.2450 per kWh all day."
    assert [(r.start, r.end, r.rate_text) for r in panel.rows] == [("00:00", "24:00", "£0.2450")]
    root = parse_svg(panel)
    assert "£0.2450 per kWh all day." in root.get("aria-label")
    assert chart.note == ""


@pytest.mark.django_db
def test_economy_7_chart_names_the_cheap_night(make_tariff):
    chart = tariff_chart_build(tariff=make_tariff(name="Economy 7", rules=ECONOMY_7), on=JULY)
    [panel] = chart.panels
    assert panel.summary == (
        "Cheapest £0.1300 per kWh (00:30 to 07:30); "
        "dearest £0.2900 per kWh (00:00 to 00:30, 07:30 to 24:00)."
    )
    assert len(panel.rows) == 3
    line = parse_svg(panel).find(f"{SVG}path[@class='chart-line']")
    # A step line: one horizontal run per window.
    assert line.get("d").count("H") == 3


@pytest.mark.django_db
def test_ev_flex_has_separate_weekday_and_weekend_panels(make_tariff):
    chart = tariff_chart_build(tariff=make_tariff(name="EV Flex", rules=EV_FLEX), on=JULY)
    weekdays, weekend = chart.panels
    assert weekdays.title == "Monday to Friday"
    assert weekend.title == "Saturday and Sunday"
    assert [r.rate_text for r in weekdays.rows] == ["£0.0850", "£0.2600", "£0.3800", "£0.2600"]
    assert "dearest £0.3800 per kWh (16:00 to 19:00)" in weekdays.summary
    assert [r.rate_text for r in weekend.rows] == ["£0.0850", "£0.2400"]
    assert weekdays.id != weekend.id


@pytest.mark.django_db
def test_the_include_renders_a_captioned_group_chart_and_table(make_tariff):
    chart = tariff_chart_build(
        tariff=make_tariff(name="EV Flex", rules=EV_FLEX), on=JULY, id_prefix="premise-PRM-1"
    )
    html = render_to_string("includes/tariff_chart.html", {"chart": chart})
    assert html.count('role="group"') == 2
    assert html.count("<svg") == 2
    assert 'id="premise-prm-1"' in html
    assert "<caption>Prices of EV Flex, Monday to Friday</caption>" in html
    assert '<th scope="col">Price per kWh</th>' in html
    assert "<script" not in html and "style=" not in html


@pytest.mark.django_db
def test_everything_from_the_database_is_escaped(make_tariff):
    tariff = make_tariff(name='<script>alert("x")</script>')
    chart = tariff_chart_build(tariff=tariff, on=JULY, id_prefix='"><img src=x>')
    html = render_to_string("includes/tariff_chart.html", {"chart": chart})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html


@pytest.mark.django_db
def test_a_seasonal_tariff_says_which_month_is_shown(make_tariff):
    tariff = make_tariff(
        rules=[
            ("00:00", "24:00", "0.30", list(range(7)), [1, 2, 3, 10, 11, 12]),
            ("00:00", "24:00", "0.20", list(range(7)), [4, 5, 6, 7, 8, 9]),
        ]
    )
    chart = tariff_chart_build(tariff=tariff, on=JULY)
    assert chart.note == "Prices in July; they change with the season."
    assert chart.panels[0].summary == "£0.2000 per kWh all day."


@pytest.mark.django_db
def test_prices_are_formatted_for_the_language(make_tariff):
    with translation.override("de"):
        chart = tariff_chart_build(tariff=make_tariff(), on=JULY)
    assert "0,2450" in chart.panels[0].summary
