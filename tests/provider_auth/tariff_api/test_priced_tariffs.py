"""The tariff API for published-prices and market-indexed tariffs: both formats, both endpoints,
publication moving `next_update` and the ETags, DST days, negative prices, query budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Pricing, Tariff
from accounts.price_import import price_import_target, prices_import
from tests.accounts.price_files import OCTOPUS_SAMPLE, csv_of, day_bounds, day_rows

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"
RATES = "/api/v1/tariff/rates"
UTC = dt.UTC
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=UTC)
CONTRACT_FILE = Path(__file__).resolve().parents[3] / "docs" / "flatpeak-contract.md"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def z(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def agile(make_tariff: Any) -> Tariff:
    tariff = make_tariff(name="Agile", rules=[("00:00", "24:00", "0")])
    tariff.pricing = Pricing.PUBLISHED
    tariff.prices_publish_time = dt.time(16, 0)
    tariff.save()
    return tariff


@pytest.fixture
def dynamisch(make_market_tariff: Any) -> Tariff:
    return make_market_tariff(
        bands=[("00:00", "06:00", "0.10", "0.19"), ("06:00", "24:00", "0.15", "0.19")],
        prices_publish_time=dt.time(13, 0),
    )


def publish(tariff: Tariff, rows: Any, *, now: dt.datetime | None = None) -> None:
    prices_import(
        data=csv_of(rows),
        file_format="csv",
        target=price_import_target(tariff=tariff),
        now=now or timezone.now(),
    )


def publish_zone(zone: str, rows: Any, *, now: dt.datetime | None = None) -> None:
    prices_import(
        data=csv_of(rows),
        file_format="csv",
        target=price_import_target(zone=zone),
        now=now or timezone.now(),
    )


@pytest.fixture
def on_tariff(make_contract: Any, make_premise: Any, issue: Any) -> Any:
    """A token for a premise whose only contract is on `tariff` (open-ended, from 2025)."""

    def make(tariff: Tariff, **premise_fields: Any) -> str:
        premise = make_premise(**premise_fields)
        make_contract(premise=premise, tariff=tariff, start_at=LONG_AGO, end_at=None)
        return issue(premise=premise)[1].access_token

    return make


def rates(api_get: Any, token: str, start: dt.datetime, end: dt.datetime, **params: Any) -> Any:
    headers = {k: params.pop(k) for k in list(params) if k.startswith("HTTP_")}
    return api_get(
        RATES, token, data={"start_time": z(start), "end_time": z(end), **params}, **headers
    )


def today_london() -> dt.date:
    return timezone.now().astimezone(ZoneInfo("Europe/London")).date()


# --- /rates: concrete prices ----------------------------------------------------------------


def test_a_contract_switching_from_a_schedule_to_published_prices_at_midnight(
    api_get: Any,
    make_contract: Any,
    make_premise: Any,
    make_tariff: Any,
    agile: Tariff,
    issue: Any,
    django_assert_max_num_queries: Any,
) -> None:
    premise = make_premise()
    midnight = at("2026-01-15T00:00Z")  # London in winter is UTC
    schedule = make_tariff()
    make_contract(premise=premise, tariff=schedule, start_at=LONG_AGO, end_at=midnight)
    make_contract(premise=premise, tariff=agile, start_at=midnight, end_at=None)
    prices_import(
        data=OCTOPUS_SAMPLE.read_bytes(),
        file_format="octopus",
        target=price_import_target(tariff=agile),
        now=at("2026-01-14T16:05Z"),
    )
    token = issue(premise=premise)[1].access_token
    # The token; the contracts with their tariffs, rules and series versions; the prices.
    with django_assert_max_num_queries(3):
        response = rates(api_get, token, at("2026-01-14T18:00Z"), at("2026-01-15T06:00Z"))
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    first, *published = body["data"]
    # The schedule prices its own period up to midnight, then the published half hours.
    assert first == {
        "valid_from": "2026-01-14T18:00:00Z",
        "valid_to": "2026-01-15T00:00:00Z",
        "unit_rate": 0.245,
    }
    assert len(published) == 12
    assert published[0]["valid_from"] == "2026-01-15T00:00:00Z"
    assert published[-1]["valid_to"] == "2026-01-15T06:00:00Z"
    assert body["pricing"] == "published"
    assert body["published_until"] == "2026-01-16T00:00:00Z"
    # The newest change behind the prices shown: here the schedule tariff's (created now).
    assert body["last_updated"] == z(schedule.updated_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["next_update"])


def test_prices_not_yet_published_are_never_invented(
    api_get: Any, agile: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(agile)
    today = today_london()
    publish(agile, day_rows(today, "Europe/London", 30))
    start, end = day_bounds(today, "Europe/London")
    body = rates(api_get, token, start + dt.timedelta(hours=12), end + dt.timedelta(hours=12))
    assert body.status_code == HTTPStatus.OK
    data = body.json()["data"]
    assert data[-1]["valid_to"] == z(end) == body.json()["published_until"]

    later = rates(api_get, token, end + dt.timedelta(days=1), end + dt.timedelta(days=2))
    assert later.status_code == HTTPStatus.NOT_FOUND
    error = later.json()
    assert error["object"] == "error"
    assert error["code"] == "prices_not_published"
    assert z(end) in error["message"]
    assert int(later["Retry-After"]) > 0


def test_nothing_published_at_all_is_prices_not_published_too(
    api_get: Any, agile: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(agile)
    response = rates(api_get, token, at("2026-01-15T00:00Z"), at("2026-01-16T00:00Z"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "prices_not_published"


# --- publication moves next_update and the ETags -----------------------------------------------


def test_publishing_a_day_moves_next_update_and_both_etags_and_nothing_else_does(
    api_get: Any, agile: Tariff, on_tariff: Any, django_assert_num_queries: Any
) -> None:
    token = on_tariff(agile)
    today = today_london()
    tomorrow = today + dt.timedelta(days=1)
    publish(agile, day_rows(today, "Europe/London", 30) + day_rows(tomorrow, "Europe/London", 30))
    start, _ = day_bounds(today, "Europe/London")
    end = start + dt.timedelta(days=3)

    first = rates(api_get, token, start, end)
    document = api_get(TARIFF, token)
    assert first.status_code == document.status_code == HTTPStatus.OK
    london = ZoneInfo("Europe/London")
    expected = dt.datetime.combine(tomorrow, dt.time(16), tzinfo=london)
    assert first.json()["next_update"] == z(expected)
    assert document.json()["published_rates"]["published_until"] == first.json()["published_until"]

    # Unchanged: 304 on both, the tariff's in one query.
    assert rates(api_get, token, start, end, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    with django_assert_num_queries(1):
        again = api_get(TARIFF, token, HTTP_IF_NONE_MATCH=document["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED

    day_after = tomorrow + dt.timedelta(days=1)
    publish(agile, day_rows(day_after, "Europe/London", 30))

    second = rates(api_get, token, start, end, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == HTTPStatus.OK
    assert second["ETag"] != first["ETag"]
    assert second.json()["next_update"] == z(
        dt.datetime.combine(day_after, dt.time(16), tzinfo=london)
    )
    assert len(second.json()["data"]) > len(first.json()["data"])
    changed = api_get(TARIFF, token, HTTP_IF_NONE_MATCH=document["ETag"])
    assert changed.status_code == HTTPStatus.OK
    assert changed["ETag"] != document["ETag"]
    assert changed.json()["published_rates"]["published_until"] == second.json()["published_until"]


def test_a_republished_day_moves_the_etag_of_the_current_tariff(
    api_get: Any, dynamisch: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(dynamisch, country_code="DE")
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    publish_zone("DE-LU", day_rows(today, "Europe/Berlin", 15, price=lambda i: Decimal("80")))
    etag = api_get(TARIFF, token)["ETag"]
    assert api_get(TARIFF, token, HTTP_IF_NONE_MATCH=etag).status_code == 304
    publish_zone("DE-LU", day_rows(today, "Europe/Berlin", 15, price=lambda i: Decimal("81")))
    assert api_get(TARIFF, token, HTTP_IF_NONE_MATCH=etag).status_code == HTTPStatus.OK


def test_the_published_prices_304_is_one_query_and_a_200_at_most_three(
    api_get: Any,
    agile: Tariff,
    dynamisch: Tariff,
    on_tariff: Any,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    today = today_london()
    publish(agile, day_rows(today, "Europe/London", 30))
    publish_zone("DE-LU", day_rows(today, "Europe/Berlin", 15, price=lambda i: Decimal("80")))
    start, end = day_bounds(today, "Europe/London")
    for token in (on_tariff(agile), on_tariff(dynamisch, country_code="DE")):
        for output in ("provider", "flatpeak"):
            with django_assert_max_num_queries(3):
                document = api_get(TARIFF, token, data={"format": output})
            assert document.status_code == HTTPStatus.OK
            with django_assert_num_queries(1):
                cached = api_get(TARIFF, token, data={"format": output})
            assert cached.content == document.content
            with django_assert_num_queries(1):
                not_modified = api_get(
                    TARIFF, token, data={"format": output}, HTTP_IF_NONE_MATCH=document["ETag"]
                )
            assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
            with django_assert_max_num_queries(3):
                response = rates(api_get, token, start, end, format=output)
            assert response.status_code == HTTPStatus.OK


# --- DST days through the API ------------------------------------------------------------------


@pytest.mark.parametrize(("day", "count"), [("2026-03-29", 46), ("2026-10-25", 50)])
def test_a_london_dst_day_has_46_or_50_half_hours_in_both_formats(
    api_get: Any, agile: Tariff, on_tariff: Any, day: str, count: int
) -> None:
    token = on_tariff(agile)
    local_day = dt.date.fromisoformat(day)
    publish(agile, day_rows(local_day, "Europe/London", 30), now=at(day + "T00:00Z"))
    start, end = day_bounds(local_day, "Europe/London")
    assert (end - start) == dt.timedelta(hours=count / 2)
    for output in ("provider", "flatpeak"):
        body = rates(api_get, token, start, end, format=output).json()
        assert len(body["data"]) == count
        assert body["data"][0]["valid_from"] == z(start)
        assert body["data"][-1]["valid_to"] == z(end)


@pytest.mark.parametrize(("day", "count"), [("2026-03-29", 92), ("2026-10-25", 100)])
def test_a_berlin_dst_day_has_92_or_100_quarter_hours_in_both_formats(
    api_get: Any, dynamisch: Tariff, on_tariff: Any, day: str, count: int
) -> None:
    token = on_tariff(dynamisch, country_code="DE")
    local_day = dt.date.fromisoformat(day)
    publish_zone(
        "DE-LU",
        day_rows(local_day, "Europe/Berlin", 15, price=lambda i: Decimal("80")),
        now=at(day + "T00:00Z"),
    )
    start, end = day_bounds(local_day, "Europe/Berlin")
    for output in ("provider", "flatpeak"):
        body = rates(api_get, token, start, end, format=output).json()
        assert len(body["data"]) == count
        # 80 €/MWh + 0.10 (night) or 0.15 (day), then 19 %: exact decimals, no rounding.
        first = body["data"][0]
        rate = first["unit_rate"] if output == "provider" else first["tariff"]["rate"]
        assert Decimal(str(rate)) == (Decimal("0.080") + Decimal("0.10")) * Decimal("1.19")


# --- negative prices ---------------------------------------------------------------------------


def test_negative_published_and_market_indexed_prices_in_both_formats(
    api_get: Any, agile: Tariff, dynamisch: Tariff, on_tariff: Any
) -> None:
    day = dt.date(2026, 1, 15)
    publish(
        agile,
        day_rows(day, "Europe/London", 30, price=lambda i: Decimal("-0.0512") if i == 27 else 1),
        now=at("2026-01-14T16:05Z"),
    )
    publish_zone(
        "DE-LU",
        day_rows(day, "Europe/Berlin", 15, price=lambda i: Decimal("-200.00") if i == 4 else 90),
        now=at("2026-01-14T12:00Z"),
    )
    cases = [
        (on_tariff(agile), at("2026-01-15T13:30Z"), Decimal("-0.0512")),
        # 01:00 Berlin is 00:00 UTC: (-200/1000 + 0.10) × 1.19 = -0.119
        (on_tariff(dynamisch, country_code="DE"), at("2026-01-15T00:00Z"), Decimal("-0.119")),
    ]
    for token, instant, expected in cases:
        provider = rates(api_get, token, instant, instant + dt.timedelta(minutes=15)).json()
        assert Decimal(str(provider["data"][0]["unit_rate"])) == expected
        flatpeak = rates(
            api_get, token, instant, instant + dt.timedelta(minutes=15), format="flatpeak"
        ).json()
        assert Decimal(str(flatpeak["data"][0]["tariff"]["rate"])) == expected


# --- the tariff document says how the tariff is priced ----------------------------------------


def test_the_market_indexed_document_carries_market_rates_and_surcharges(
    api_get: Any, dynamisch: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(dynamisch, country_code="DE")
    element = api_get(TARIFF, token, data={"format": "flatpeak"}).json()
    assert element["market_rates"] is True
    assert element["type"] == "COMMODITY"
    assert element["pricing"] == "market_indexed"
    assert element["bidding_zone"] == "DE-LU"
    assert element["prices_include_vat"] is True
    assert element["published_rates"]["href"].endswith("/api/v1/tariff/rates?format=flatpeak")
    [entry] = element["schedule"]
    [group] = entry["days_and_hours"]
    assert group["days"] == ["All"]
    assert group["hours"] == [
        {
            "valid_from": "00:00:00",
            "valid_to": "06:00:00",
            "rate": [{"surcharge_fixed": 0.1, "surcharge_percentage": 0.19, "to_kwh": None}],
        },
        {
            "valid_from": "06:00:00",
            "valid_to": "00:00:00",
            "rate": [{"surcharge_fixed": 0.15, "surcharge_percentage": 0.19, "to_kwh": None}],
        },
    ]
    ours = api_get(TARIFF, token).json()
    assert ours["pricing"] == "market_indexed"
    assert ours["currency"] == "EUR"
    assert [(r["surcharge_fixed"], r["unit_rate"]) for r in ours["rules"]] == [
        (0.1, None),
        (0.15, None),
    ]


def test_the_published_prices_document_points_to_the_rates(
    api_get: Any, agile: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(agile)
    publish(agile, day_rows(dt.date(2026, 1, 15), "Europe/London", 30), now=at("2026-01-14T16Z"))
    element = api_get(TARIFF, token, data={"format": "flatpeak"}).json()
    assert element["market_rates"] is False
    assert element["schedule"] == []
    published = element["published_rates"]
    assert published["href"].endswith("/api/v1/tariff/rates?format=flatpeak")
    assert published["published_until"] == "2026-01-16T00:00:00Z"
    assert published["last_updated"] == "2026-01-14T16:00:00Z"
    ours = api_get(TARIFF, token).json()
    assert ours["pricing"] == "published"
    assert ours["rules"] == []
    assert ours["published_rates"]["href"].endswith("/api/v1/tariff/rates")


# --- FlatPeak's shapes, as docs/flatpeak-contract.md states them -----------------------------


def contract_fields(marker: str) -> set[str]:
    """The quoted field names of the paragraph of docs/flatpeak-contract.md that starts with `marker`."""
    text = CONTRACT_FILE.read_text()
    start = text.index(marker)
    paragraph = text[start : text.index("\n- [", start)]
    return set(re.findall(r'[`"]([a-z_]+)[`"]', paragraph))


def test_the_flatpeak_rates_shape_has_every_field_the_contract_names(
    api_get: Any, agile: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(agile)
    publish(agile, day_rows(dt.date(2026, 1, 15), "Europe/London", 30), now=at("2026-01-14T16Z"))
    body = rates(
        api_get, token, at("2026-01-15T00:00Z"), at("2026-01-15T02:00Z"), format="flatpeak"
    ).json()
    named = contract_fields("FlatPeak's own rates time series")
    # live_mode is FlatPeak's own test/live switch; like on error objects we leave it out.
    # "tariff_rate" is the value of `object`.
    assert named - {"live_mode", "tariff_rate"} <= set(body) | set(body["request"]) | set(
        body["data"][0]
    ) | set(body["data"][0]["tariff"])
    assert body["object"] == "tariff_rate"
    assert body["currency_code"] == "GBP"
    assert body["location_timezone"] == "Europe/London"
    assert body["request"] == {
        "start_time": "2026-01-15T00:00:00Z",
        "end_time": "2026-01-15T02:00:00Z",
        "direction": "IMPORT",
    }
    assert body["data"][0] == {
        "valid_from": "2026-01-15T00:00:00Z",
        "valid_to": "2026-01-15T00:30:00Z",
        "tariff": {"rate": 0.1, "confidence": 1},
    }


def test_the_market_indexed_element_has_the_fields_the_contract_names(
    api_get: Any, dynamisch: Tariff, on_tariff: Any
) -> None:
    token = on_tariff(dynamisch, country_code="DE")
    element = api_get(TARIFF, token, data={"format": "flatpeak"}).json()
    rate = element["schedule"][0]["days_and_hours"][0]["hours"][0]["rate"][0]
    named = contract_fields("Market-indexed tariffs (FlatPeak's published OpenAPI")
    assert {"market_rates"} <= set(element)
    assert {"surcharge_fixed", "surcharge_percentage", "to_kwh"} <= set(rate)
    assert {"market_rates", "surcharge_fixed", "surcharge_percentage"} <= named


def test_priced_responses_match_the_openapi_document(
    api_get: Any, agile: Tariff, dynamisch: Tariff, on_tariff: Any
) -> None:
    from tests.provider_auth.tariff_api.test_openapi import assert_matches

    day = dt.date(2026, 1, 15)
    publish(agile, day_rows(day, "Europe/London", 30), now=at("2026-01-14T16Z"))
    publish_zone("DE-LU", day_rows(day, "Europe/Berlin", 15), now=at("2026-01-14T12Z"))
    start, end = at("2026-01-14T12:00Z"), at("2026-01-16T12:00Z")
    for token in (on_tariff(agile), on_tariff(dynamisch, country_code="DE")):
        for output in ("provider", "flatpeak"):
            document = api_get(TARIFF, token, data={"format": output})
            assert document.status_code == HTTPStatus.OK
            assert_matches(document, TARIFF)
            response = rates(api_get, token, start, end, format=output)
            assert response.status_code == HTTPStatus.OK
            assert_matches(response, RATES)
        missing = rates(api_get, token, end + dt.timedelta(days=1), end + dt.timedelta(days=2))
        assert missing.status_code == HTTPStatus.NOT_FOUND
        assert_matches(missing, RATES)


# --- a rates body is written once per version --------------------------------------------------


def test_a_repeated_rates_request_is_served_from_its_written_body_until_prices_change(
    api_get: Any,
    agile: Tariff,
    on_tariff: Any,
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from provider_auth.tariff_api import sql

    token = on_tariff(agile)
    today = today_london()
    publish(agile, day_rows(today, "Europe/London", 30, price=lambda i: Decimal("0.20")))
    start, end = day_bounds(today, "Europe/London")
    first = rates(api_get, token, start, end)
    assert first.status_code == HTTPStatus.OK

    def unexpected(**kwargs: Any) -> Any:
        raise AssertionError("a written body was written again")

    with monkeypatch.context() as patched:
        patched.setattr(sql, "price_series_fetch", unexpected)
        # The token; the contracts with their tariffs' and series' versions. No price is read.
        with django_assert_num_queries(2):
            again = rates(api_get, token, start, end)
    assert (again.content, again["ETag"]) == (first.content, first["ETag"])

    # Re-published with other prices: a new version, so a new body.
    publish(agile, day_rows(today, "Europe/London", 30, price=lambda i: Decimal("0.25")))
    changed = rates(api_get, token, start, end, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == HTTPStatus.OK and changed["ETag"] != first["ETag"]
    assert {d["unit_rate"] for d in changed.json()["data"]} == {0.25}


def test_a_written_rates_body_says_next_update_as_of_now(
    api_get: Any, agile: Tariff, on_tariff: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    today = today_london()
    london = ZoneInfo("Europe/London")
    # Everything, the token included, under a clock half an hour before the publication time.
    morning = dt.datetime.combine(today, dt.time(15, 30), tzinfo=london)
    monkeypatch.setattr(timezone, "now", lambda: morning)
    token = on_tariff(agile)
    publish(agile, day_rows(today, "Europe/London", 30), now=morning)
    start, end = day_bounds(today, "Europe/London")
    first = rates(api_get, token, start, end)
    assert first.json()["next_update"] == z(dt.datetime.combine(today, dt.time(16), tzinfo=london))

    # Past the publication time without tomorrow's prices: the publisher is late, so the same
    # version (same ETag, same body written once) now advises trying again soon.
    evening = dt.datetime.combine(today, dt.time(16, 20), tzinfo=london)
    monkeypatch.setattr(timezone, "now", lambda: evening)
    late = rates(api_get, token, start, end)
    assert late.status_code == HTTPStatus.OK, late.content
    assert late["ETag"] == first["ETag"]
    assert late.json()["next_update"] == z(
        evening + dt.timedelta(minutes=settings.PRICES_LATE_RETRY_MINUTES)
    )
    assert {k: v for k, v in late.json().items() if k != "next_update"} == {
        k: v for k, v in first.json().items() if k != "next_update"
    }
