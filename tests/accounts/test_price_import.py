"""Importing price files: every format, every refusal with its place, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import PricePublication, Pricing, PublishedPrice, WholesalePrice
from accounts.price_import import PriceImportInvalid, price_import_target, prices_import
from accounts.price_selectors import price_publication_state
from tests.accounts.price_files import (
    ENTSOE_SAMPLE,
    OCTOPUS_SAMPLE,
    csv_of,
    day_bounds,
    day_rows,
    entsoe_of,
    rfc3339,
)

UTC = dt.UTC
pytestmark = pytest.mark.django_db


@pytest.fixture
def published_tariff(make_tariff):
    def make(*, timezone_name="Europe/London", currency="GBP", include_vat=True, name="Agile"):
        tariff = make_tariff(name=name, timezone_name=timezone_name, currency=currency)
        tariff.pricing = Pricing.PUBLISHED
        tariff.prices_include_vat = include_vat
        tariff.save()
        return tariff

    return make


def import_into(tariff, data: bytes, file_format="csv", **kwargs):
    return prices_import(
        data=data, file_format=file_format, target=price_import_target(tariff=tariff), **kwargs
    )


def import_zone(zone: str, data: bytes, file_format="entsoe", **kwargs):
    return prices_import(
        data=data, file_format=file_format, target=price_import_target(zone=zone), **kwargs
    )


def refused(call) -> list[str]:
    with pytest.raises(PriceImportInvalid) as caught:
        call()
    assert PublishedPrice.objects.count() == 0
    assert WholesalePrice.objects.count() == 0
    assert PricePublication.objects.count() == 0
    return caught.value.errors


# --- Samples --------------------------------------------------------------------------------


def test_the_octopus_sample_imports_inc_vat_pence_as_exact_pounds_with_a_negative_price(
    published_tariff,
):
    tariff = published_tariff(include_vat=True)
    result = import_into(tariff, OCTOPUS_SAMPLE.read_bytes(), "octopus")
    assert result.days == [dt.date(2026, 1, 15)] and result.intervals == 48
    negative = PublishedPrice.objects.get(valid_from=dt.datetime(2026, 1, 15, 3, 30, tzinfo=UTC))
    assert negative.value == Decimal("-0.02205")  # -2.205 p/kWh inc VAT
    assert negative.valid_to == dt.datetime(2026, 1, 15, 4, tzinfo=UTC)
    first = PublishedPrice.objects.get(valid_from=dt.datetime(2026, 1, 15, tzinfo=UTC))
    record = next(
        r
        for r in json.loads(OCTOPUS_SAMPLE.read_text(), parse_float=Decimal)["results"]
        if r["valid_from"] == "2026-01-15T00:00:00Z"
    )
    assert first.value == record["value_inc_vat"] / 100


def test_the_octopus_sample_imports_exc_vat_for_a_tariff_quoted_without_vat(published_tariff):
    tariff = published_tariff(include_vat=False)
    import_into(tariff, OCTOPUS_SAMPLE.read_bytes(), "octopus")
    negative = PublishedPrice.objects.get(valid_from=dt.datetime(2026, 1, 15, 3, 30, tzinfo=UTC))
    assert negative.value == Decimal("-0.021")


def test_the_entsoe_sample_imports_96_quarter_hours_repeating_an_omitted_a03_position():
    result = import_zone("DE-LU", ENTSOE_SAMPLE.read_bytes())
    assert result.days == [dt.date(2026, 1, 15)] and result.intervals == 96
    rows = list(WholesalePrice.objects.order_by("valid_from"))
    assert rows[0].valid_from == dt.datetime(2026, 1, 14, 23, tzinfo=UTC)
    assert rows[-1].valid_to == dt.datetime(2026, 1, 15, 23, tzinfo=UTC)
    assert "<position>37</position>" not in ENTSOE_SAMPLE.read_text()
    assert rows[36].price == rows[35].price == Decimal("103.54")  # position 37 = position 36
    assert {r.currency for r in rows} == {"EUR"} and {r.zone for r in rows} == {"DE-LU"}


# --- DST days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "day", "minutes", "count"),
    [
        ("Europe/London", dt.date(2026, 3, 29), 30, 46),
        ("Europe/London", dt.date(2026, 10, 25), 30, 50),
        ("Europe/London", dt.date(2026, 1, 15), 30, 48),
        ("Europe/Berlin", dt.date(2026, 3, 29), 15, 92),
        ("Europe/Berlin", dt.date(2026, 10, 25), 15, 100),
        ("Europe/Berlin", dt.date(2026, 10, 25), 60, 25),
    ],
)
def test_a_dst_day_imports_with_its_own_number_of_intervals(
    published_tariff, timezone, day, minutes, count
):
    tariff = published_tariff(timezone_name=timezone)
    rows = day_rows(day, timezone, minutes, price=lambda i: Decimal(i % 7) / 100 - Decimal("0.02"))
    assert len(rows) == count
    result = import_into(tariff, csv_of(rows))
    assert result.intervals == count
    assert PublishedPrice.objects.filter(tariff=tariff).count() == count
    assert PublishedPrice.objects.filter(value__lt=0).exists()  # negative prices stored


@pytest.mark.parametrize(
    ("day", "resolution", "minutes", "count"),
    [(dt.date(2026, 3, 29), "PT15M", 15, 92), (dt.date(2026, 10, 25), "PT15M", 15, 100)],
)
def test_an_entsoe_document_for_a_berlin_dst_day_imports(day, resolution, minutes, count):
    start, end = day_bounds(day, "Europe/Berlin")
    points = [(p, f"{50 + p % 9}.25") for p in range(1, count + 1)]
    result = import_zone(
        "DE-LU", entsoe_of(start=start, end=end, resolution=resolution, points=points)
    )
    assert result.intervals == count == WholesalePrice.objects.count()


@pytest.mark.parametrize(
    ("timezone", "day", "minutes", "wrong", "expected"),
    [
        # a 25-hour day cut off after 24 hours: 48 half-hours, 96 quarter-hours
        (
            "Europe/London",
            dt.date(2026, 10, 25),
            30,
            48,
            "has 48 intervals of 30 minutes; its 25-hour day needs 50",
        ),
        (
            "Europe/Berlin",
            dt.date(2026, 10, 25),
            15,
            96,
            "has 96 intervals of 15 minutes; its 25-hour day needs 100",
        ),
        # a 23-hour day an hour short (as if the missing hour had been dropped twice)
        (
            "Europe/London",
            dt.date(2026, 3, 29),
            30,
            44,
            "has 44 intervals of 30 minutes; its 23-hour day needs 46",
        ),
        (
            "Europe/Berlin",
            dt.date(2026, 3, 29),
            15,
            88,
            "has 88 intervals of 15 minutes; its 23-hour day needs 92",
        ),
    ],
)
def test_a_dst_day_with_the_wrong_count_is_refused(
    published_tariff, timezone, day, minutes, wrong, expected
):
    tariff = published_tariff(timezone_name=timezone)
    start, _ = day_bounds(day, timezone)
    step = dt.timedelta(minutes=minutes)
    rows = [(start + step * i, start + step * (i + 1), Decimal("0.1")) for i in range(wrong)]
    errors = refused(lambda: import_into(tariff, csv_of(rows)))
    assert any(expected in e and e.startswith("line 2:") for e in errors), errors


@pytest.mark.parametrize(
    ("timezone", "minutes", "count"), [("Europe/London", 30, 48), ("Europe/Berlin", 15, 96)]
)
def test_a_23_hour_day_written_with_24_hours_spills_into_the_next_day_and_is_refused(
    published_tariff, timezone, minutes, count
):
    tariff = published_tariff(timezone_name=timezone)
    start, _ = day_bounds(dt.date(2026, 3, 29), timezone)
    step = dt.timedelta(minutes=minutes)
    rows = [(start + step * i, start + step * (i + 1), Decimal("0.1")) for i in range(count)]
    errors = refused(lambda: import_into(tariff, csv_of(rows)))
    spill = count - (count * 23 // 24)
    assert errors == [
        f"line {count * 23 // 24 + 2}: 2026-03-30 ({timezone}) has {spill} intervals of "
        f"{minutes} minutes; its 24-hour day needs {count} from local midnight"
    ]


def test_the_resolution_may_change_between_days(published_tariff):
    tariff = published_tariff(timezone_name="Europe/Berlin", currency="EUR")
    rows = day_rows(dt.date(2026, 1, 15), "Europe/Berlin", 60)
    rows += day_rows(dt.date(2026, 1, 16), "Europe/Berlin", 30)
    rows += day_rows(dt.date(2026, 1, 17), "Europe/Berlin", 15)
    result = import_into(tariff, csv_of(rows))
    assert result.days == [dt.date(2026, 1, 15), dt.date(2026, 1, 16), dt.date(2026, 1, 17)]
    assert result.intervals == 24 + 48 + 96


def test_one_day_mixing_resolutions_is_refused(published_tariff):
    tariff = published_tariff()
    start, _ = day_bounds(dt.date(2026, 1, 15), "Europe/London")
    half = dt.timedelta(minutes=30)
    rows = [(start, start + half * 2, Decimal("0.1"))]
    rows += [(start + half * (i + 2), start + half * (i + 3), Decimal("0.1")) for i in range(46)]
    errors = refused(lambda: import_into(tariff, csv_of(rows)))
    assert errors == ["line 2: 2026-01-15 mixes interval lengths; one resolution per day"]


# --- Every refusal, with its place ------------------------------------------------------------


def _day(tariff_tz="Europe/London"):
    return day_rows(dt.date(2026, 1, 15), tariff_tz, 30, price=lambda i: Decimal("0.1"))


def test_a_gap_is_refused_at_the_line_after_it(published_tariff):
    rows = _day()
    del rows[10]  # 05:00–05:30 missing; line 12 now starts at 05:30
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert "line 12: gap: nothing from 2026-01-15T05:00:00+00:00 to 2026-01-15T05:30:00+00:00" in (
        errors
    )


def test_an_overlap_is_refused_with_both_places(published_tariff):
    rows = _day()
    a, b, v = rows[4]
    rows.insert(5, (a + dt.timedelta(minutes=15), b + dt.timedelta(minutes=15), v))
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert "line 7: starts at 2026-01-15T02:15:00+00:00, off the 30-minute grid" in errors


def test_an_overlap_on_the_grid_is_refused(published_tariff):
    rows = _day()
    a, _, v = rows[4]
    rows.insert(5, (a, a + dt.timedelta(minutes=60), v))  # 02:00–03:00 over 02:00–02:30
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert any(e.startswith("line 7: duplicate interval starting 2026-01-15T02:00") for e in errors)


def test_an_hour_overlapping_the_next_half_hour_is_refused(published_tariff):
    tariff = published_tariff(timezone_name="Europe/Berlin", currency="EUR")
    rows = day_rows(dt.date(2026, 1, 15), "Europe/Berlin", 60)
    a, b, v = rows[3]
    rows.insert(4, (b - dt.timedelta(minutes=30), b, v))
    errors = refused(lambda: import_into(tariff, csv_of(rows)))
    assert "line 6: overlaps line 5" in errors


def test_an_interval_of_an_odd_length_is_refused(published_tariff):
    rows = _day()
    a, _, v = rows[0]
    rows[0] = (a, a + dt.timedelta(minutes=20), v)
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert "line 2: lasts 20 minutes; intervals are 15, 30 or 60" in errors


def test_duplicate_lines_are_refused(published_tariff):
    rows = _day()
    rows.insert(3, rows[3])
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert any(
        e.startswith("line 6: duplicate interval starting") and "(also line 5)" in e for e in errors
    )


def test_absurd_values_are_refused_against_configurable_bounds(published_tariff, settings):
    rows = _day()
    a, b, _ = rows[20]
    rows[20] = (a, b, Decimal("12.5"))
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert errors == ["line 22: 12.5 GBP/kWh is outside the bounds -2…10"]
    settings.PRICES_MAX_PER_KWH = "20"
    assert import_into(published_tariff(name="Agile 2"), csv_of(rows)).intervals == 48


def test_absurd_wholesale_prices_are_refused(settings):
    start, end = day_bounds(dt.date(2026, 1, 15), "Europe/Berlin")
    points = [(p, "80") for p in range(1, 97)]
    points[40] = (41, "25000")
    errors = refused(
        lambda: import_zone(
            "DE-LU", entsoe_of(start=start, end=end, resolution="PT15M", points=points)
        )
    )
    assert errors == [
        "TimeSeries[1].Period[1].Point[41]: 25000 EUR/MWh is outside the bounds -1000…10000"
    ]


def test_bad_times_values_and_header_are_refused_with_their_line(published_tariff):
    data = b"valid_from,valid_to,value\n2026-01-15 00:00,2026-01-15T00:30:00Z,abc\n"
    errors = refused(lambda: import_into(published_tariff(), data))
    assert errors == [
        "line 2.valid_from: must be an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z",
        "line 2.value: 'abc' is not a decimal number",
    ]
    errors = refused(lambda: import_into(published_tariff(name="B"), b"from,to,price\n"))
    assert errors == ["line 1: the header must be exactly valid_from,valid_to,value"]


def test_a_partial_day_is_refused(published_tariff):
    rows = _day()[:40]
    errors = refused(lambda: import_into(published_tariff(), csv_of(rows)))
    assert errors == [
        "line 2: 2026-01-15 (Europe/London) has 40 intervals of 30 minutes; its 24-hour day "
        "needs 48 from local midnight"
    ]


def test_an_a01_document_missing_a_position_is_refused():
    start, end = day_bounds(dt.date(2026, 1, 15), "Europe/Berlin")
    points = [(p, "80") for p in range(1, 97) if p != 50]
    errors = refused(
        lambda: import_zone(
            "DE-LU", entsoe_of(start=start, end=end, resolution="PT15M", points=points)
        )
    )
    assert "TimeSeries[1].Period[1]: position 50 is missing (curve type A01)" in errors


def test_a_duplicate_entsoe_point_is_refused_with_both_places():
    start, end = day_bounds(dt.date(2026, 1, 15), "Europe/Berlin")
    points = [(p, "80") for p in range(1, 97)]
    points.insert(10, (10, "81"))
    errors = refused(
        lambda: import_zone(
            "DE-LU", entsoe_of(start=start, end=end, resolution="PT15M", points=points)
        )
    )
    assert errors == [
        "TimeSeries[1].Period[1].Point[11].position: duplicate point: position 10 is also "
        "TimeSeries[1].Period[1].Point[10]"
    ]


def test_an_entsoe_document_for_another_zone_or_currency_is_refused():
    start, end = day_bounds(dt.date(2026, 1, 15), "Europe/Berlin")
    data = entsoe_of(
        start=start,
        end=end,
        resolution="PT60M",
        points=[(p, "80") for p in range(1, 25)],
        eic="10YNL----------L",
        currency="GBP",
    )
    errors = refused(lambda: import_zone("DE-LU", data))
    assert errors == [
        "TimeSeries[1].in_Domain.mRID: is '10YNL----------L', not the bidding zone DE-LU "
        "(10Y1001A1001A82H)",
        "TimeSeries[1].currency_Unit.name: is 'GBP', not EUR",
    ]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Publication_MarketDocument><type>&lol3;</type></Publication_MarketDocument>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE doc [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Publication_MarketDocument><type>&secret;</type></Publication_MarketDocument>"""


@pytest.mark.spec("ASVS 5.5.2")
@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_bombs_and_external_entities_are_refused_with_a_clear_message(document):
    errors = refused(lambda: import_zone("DE-LU", document))
    assert len(errors) == 1
    assert errors[0].startswith(
        "document: refused: the XML declares a DTD, entities or external references"
    )


def test_malformed_xml_and_json_are_refused(published_tariff):
    assert refused(lambda: import_zone("DE-LU", b"<Publication_MarketDocument>"))[0].startswith(
        "document: is not well-formed XML"
    )
    errors = refused(lambda: import_into(published_tariff(), b"{", "octopus"))
    assert errors[0].startswith("document: is not valid JSON (line 1")


def test_octopus_records_are_reported_by_their_index(published_tariff):
    document = json.loads(OCTOPUS_SAMPLE.read_text())
    document["results"][5]["value_inc_vat"] = "lots"
    document["results"][9]["valid_to"] = "tomorrow"
    errors = refused(
        lambda: import_into(published_tariff(), json.dumps(document).encode(), "octopus")
    )
    assert "results[5].value_inc_vat: 'lots' is not a decimal number" in errors
    assert any(e.startswith("results[9].valid_to: must be an RFC 3339") for e in errors)


@pytest.mark.spec("ASVS 12.1.1")
def test_file_size_and_row_count_are_bounded(published_tariff, settings):
    tariff = published_tariff()
    settings.PRICES_IMPORT_MAX_BYTES = 1000
    errors = refused(lambda: import_into(tariff, OCTOPUS_SAMPLE.read_bytes(), "octopus"))
    assert errors[0].startswith("document: ") and "is more than 1000" in errors[0]
    settings.PRICES_IMPORT_MAX_BYTES = 5_000_000
    settings.PRICES_IMPORT_MAX_ROWS = 47
    errors = refused(lambda: import_into(tariff, OCTOPUS_SAMPLE.read_bytes(), "octopus"))
    assert errors == ["document: 48 intervals is more than 47"]


def test_a_target_must_fit_the_format(published_tariff, make_tariff):
    with pytest.raises(PriceImportInvalid) as caught:
        price_import_target(tariff=make_tariff(name="Fixed"))
    assert caught.value.errors == ["--tariff: 'Fixed' is not priced by published prices"]
    with pytest.raises(PriceImportInvalid) as caught:
        price_import_target(zone="XX")
    assert caught.value.errors == ["--zone: 'XX' is not a known bidding zone"]
    refused(lambda: import_zone("DE-LU", OCTOPUS_SAMPLE.read_bytes(), "octopus"))
    refused(lambda: import_into(published_tariff(), ENTSOE_SAMPLE.read_bytes(), "entsoe"))


# --- Storing ----------------------------------------------------------------------------------


def test_reimporting_a_day_replaces_it_and_bumps_its_version(published_tariff):
    tariff = published_tariff()
    first_at = dt.datetime(2026, 1, 14, 16, tzinfo=UTC)
    rows = _day()
    import_into(tariff, csv_of(rows), now=first_at)
    before = price_publication_state(tariff=tariff)
    a, b, _ = rows[0]
    rows[0] = (a, b, Decimal("-0.05"))
    result = import_into(tariff, csv_of(rows), now=first_at + dt.timedelta(hours=1))
    assert result.versions == {dt.date(2026, 1, 15): 2}
    assert PublishedPrice.objects.filter(tariff=tariff).count() == 48
    assert PublishedPrice.objects.get(tariff=tariff, valid_from=a).value == Decimal("-0.05")
    after = price_publication_state(tariff=tariff)
    assert after.versions == 2 and after.days == 1
    assert after.last_updated == first_at + dt.timedelta(hours=1)
    assert after.tag != before.tag
    assert after.published_until == dt.datetime(2026, 1, 16, tzinfo=UTC)


def test_publishing_the_next_day_changes_the_state_and_keeps_the_first(published_tariff):
    tariff = published_tariff()
    import_into(tariff, csv_of(_day()))
    before = price_publication_state(tariff=tariff)
    import_into(tariff, csv_of(day_rows(dt.date(2026, 1, 16), "Europe/London", 30)))
    after = price_publication_state(tariff=tariff)
    assert (after.days, after.versions) == (2, 2) and after.tag != before.tag
    assert PublishedPrice.objects.filter(tariff=tariff).count() == 96


def test_a_dry_run_stores_nothing(published_tariff):
    result = import_into(published_tariff(), csv_of(_day()), dry_run=True)
    assert result.intervals == 48 and result.dry_run
    assert PublishedPrice.objects.count() == 0 and PricePublication.objects.count() == 0


# --- The command and the admin page -----------------------------------------------------------


def test_import_prices_command_imports_the_samples(published_tariff):
    published_tariff(name="Agile Octopus")
    out = StringIO()
    call_command(
        "import_prices",
        str(OCTOPUS_SAMPLE),
        "--format",
        "octopus",
        "--tariff",
        "Agile Octopus",
        stdout=out,
    )
    assert "Imported" in out.getvalue() and "48 intervals" in out.getvalue()
    call_command(
        "import_prices", str(ENTSOE_SAMPLE), "--format", "entsoe", "--zone", "DE-LU", stdout=out
    )
    assert WholesalePrice.objects.count() == 96


def test_import_prices_command_lists_every_problem_and_stores_nothing(published_tariff, tmp_path):
    published_tariff(name="Agile Octopus")
    rows = _day()
    del rows[3]
    rows[7] = (rows[7][0], rows[7][1], Decimal("99"))
    path = tmp_path / "prices.csv"
    path.write_bytes(csv_of(rows))
    err = StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command(
            "import_prices", str(path), "--format", "csv", "--tariff", "Agile Octopus", stderr=err
        )
    assert "line 9: 99 GBP/kWh is outside the bounds" in err.getvalue()
    assert "line 5: gap" in err.getvalue()
    assert "has 47 intervals of 30 minutes" in err.getvalue()
    assert PublishedPrice.objects.count() == 0


def test_import_prices_command_refuses_an_unknown_tariff(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(b"valid_from,valid_to,value\n")
    with pytest.raises(CommandError, match="1 problem"):
        call_command(
            "import_prices", str(path), "--format", "csv", "--tariff", "Nope", stderr=StringIO()
        )


@pytest.fixture
def staff_client(client, make_customer):
    client.force_login(make_customer(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def test_staff_upload_prices_from_the_admin(staff_client, published_tariff):
    tariff = published_tariff()
    url = reverse("admin:accounts_tariff_import_prices")
    assert (
        staff_client.get(reverse("admin:accounts_tariff_changelist")).content.count(url.encode())
        == 1
    )
    upload = SimpleUploadedFile("agile.json", OCTOPUS_SAMPLE.read_bytes())
    response = staff_client.post(
        url, {"file": upload, "file_format": "octopus", "tariff": tariff.pk, "zone": ""}
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert PublishedPrice.objects.filter(tariff=tariff).count() == 48
    page = staff_client.get(url)
    assert "Imported 48 intervals (2026-01-15)." in page.content.decode()


def test_the_admin_upload_lists_the_same_problems_and_stores_nothing(
    staff_client, published_tariff
):
    tariff = published_tariff()
    rows = _day()
    del rows[10]
    upload = SimpleUploadedFile("prices.csv", csv_of(rows))
    response = staff_client.post(
        reverse("admin:accounts_tariff_import_prices"),
        {"file": upload, "file_format": "csv", "tariff": tariff.pk, "zone": ""},
    )
    assert response.status_code == HTTPStatus.OK
    assert "line 12: gap: nothing from 2026-01-15T05:00:00+00:00" in response.content.decode()
    assert PublishedPrice.objects.count() == 0


@pytest.mark.spec("ASVS 5.5.2")
def test_the_admin_upload_refuses_an_xml_bomb_with_the_same_message(staff_client):
    upload = SimpleUploadedFile("bomb.xml", BILLION_LAUGHS)
    response = staff_client.post(
        reverse("admin:accounts_tariff_import_prices"),
        {"file": upload, "file_format": "entsoe", "tariff": "", "zone": "DE-LU"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "refused: the XML declares a DTD" in response.content.decode()
    assert WholesalePrice.objects.count() == 0


def test_the_admin_upload_needs_exactly_one_target(staff_client, published_tariff):
    upload = SimpleUploadedFile("agile.json", OCTOPUS_SAMPLE.read_bytes())
    response = staff_client.post(
        reverse("admin:accounts_tariff_import_prices"),
        {"file": upload, "file_format": "octopus", "tariff": "", "zone": ""},
    )
    assert response.status_code == HTTPStatus.OK
    assert "Choose either a tariff or a bidding zone." in response.content.decode()


def test_customers_cannot_reach_the_price_upload(client, make_customer):
    client.force_login(make_customer(email="c@example.com"))
    response = client.get(reverse("admin:accounts_tariff_import_prices"))
    assert response.status_code == HTTPStatus.FOUND
    assert "/login/" in response["Location"]


_ = rfc3339


def test_staff_set_up_a_market_indexed_tariff_with_surcharges_in_the_admin(staff_client):
    from accounts.models import Tariff

    data = {
        "name": "Dynamisch",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "standing_charge": "0.40",
        "pricing": "market_indexed",
        "prices_include_vat": "on",
        "bidding_zone": "DE-LU",
        "prices_publish_time": "13:00",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-valid_from": "00:00",
        "rules-0-valid_to": "24:00",
        "rules-0-unit_rate": "0",
        "rules-0-tier_to_kwh": "",
        "rules-0-surcharge_fixed": "0.165",
        "rules-0-surcharge_percentage": "0.19",
        "rules-0-months": [str(m) for m in range(1, 13)],
        "rules-0-weekdays": [str(d) for d in range(7)],
    }
    response = staff_client.post(reverse("admin:accounts_tariff_add"), data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    tariff = Tariff.objects.get(name="Dynamisch")
    assert (tariff.pricing, tariff.bidding_zone, tariff.prices_publish_time) == (
        Pricing.MARKET_INDEXED,
        "DE-LU",
        dt.time(13, 0),
    )
    rule = tariff.rules.get()
    assert (rule.surcharge_fixed, rule.surcharge_percentage) == (Decimal("0.165"), Decimal("0.19"))
    data["bidding_zone"] = ""
    data["name"] = "Ohne Zone"
    response = staff_client.post(reverse("admin:accounts_tariff_add"), data)
    assert response.status_code == HTTPStatus.OK
    assert "A market-indexed tariff needs its bidding zone." in response.content.decode()
