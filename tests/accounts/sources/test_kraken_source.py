"""The Kraken adapter against recorded answers in Kraken's shapes (see fixtures/kraken/)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY

from accounts.sources import tariff_source
from accounts.sources.base import (
    SupplyAccountNotFound,
    TariffSource,
    TariffSourceMalformed,
    TariffSourceMisconfigured,
    TariffSourceUnavailable,
    freshness_scope,
)
from accounts.sources.kraken import KrakenTariffSource, pence_to_major
from accounts.tariffs import tariff_rates_between
from tests.accounts.sources.kraken_replay import KrakenReplay, fixture

UTC = dt.UTC


@dataclass
class Customer:
    account_number: str | None
    pk: Any = None


SINGLE = Customer("A-1111AAAA")
MULTIPLE = Customer("A-2222BBBB")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Any:
    return lambda: (code, headers or {}, body)


def _raise(error: Exception) -> Any:
    def answer() -> Any:
        raise error

    return answer


# --- the interface and the setting ---------------------------------------------------------


def test_the_kraken_source_implements_the_interface(kraken: KrakenTariffSource) -> None:
    assert isinstance(kraken, TariffSource)


def test_the_setting_selects_the_kraken_source(replay: KrakenReplay) -> None:
    assert isinstance(tariff_source(), KrakenTariffSource)
    assert tariff_source() is tariff_source()  # one per process: its token and session are kept


# --- supply points and agreements (GraphQL) -------------------------------------------------


def test_a_single_property_is_one_supply_point_with_flatpeak_address_and_mpan(
    kraken: KrakenTariffSource,
) -> None:
    [point] = kraken.supply_points(customer=SINGLE)
    assert point.reference == "KRP-1000001"
    assert point.direction == "IMPORT"
    assert point.meter_point_number == "1900000000001"
    assert point.address.as_dict() == {
        "address_line1": "10 Demo Road",
        "address_line2": "Flat 2",
        "city": "Testbury",
        "state": "",
        "post_code": "ZZ1 1ZZ",
        "country_code": "GB",
    }


def test_every_property_and_meter_point_is_listed_import_and_export(
    kraken: KrakenTariffSource,
) -> None:
    points = kraken.supply_points(customer=MULTIPLE)
    assert [(p.reference, p.direction, p.meter_point_number) for p in points] == [
        ("KRP-2000001", "IMPORT", "1900000000002"),
        ("KRP-2000001", "EXPORT", "1900000000003"),
        ("KRP-2000002", "IMPORT", "1900000000004"),
    ]
    assert points[0].address.address_line1 == "1 Fixture Lane"
    assert points[0].address.city == "Sampleford"
    assert points[2].address.address_line2 == "Example Court"


def test_a_tariff_change_at_local_midnight_switches_the_contract_in_force(
    kraken: KrakenTariffSource,
) -> None:
    # Local midnight starting 25 October 2026 (still BST) is 23:00 UTC the day before.
    before = kraken.contract_in_force(
        customer=SINGLE,
        reference="KRP-1000001",
        direction="IMPORT",
        at=utc(2026, 10, 24, 22, 59, 59),
    )
    after = kraken.contract_in_force(
        customer=SINGLE, reference="KRP-1000001", direction="IMPORT", at=utc(2026, 10, 24, 23)
    )
    assert before is not None and before.tariff_key == "E-1R-VAR-22-11-01-C"
    assert before.end_at == utc(2026, 10, 24, 23)
    assert after is not None and after.tariff_key == "E-1R-AGILE-24-10-01-C"
    both = kraken.contracts_overlapping(
        customer=SINGLE,
        reference="KRP-1000001",
        direction="IMPORT",
        start=utc(2026, 10, 24, 12),
        end=utc(2026, 10, 25, 12),
    )
    assert [c.tariff_key for c in both] == ["E-1R-VAR-22-11-01-C", "E-1R-AGILE-24-10-01-C"]
    assert both[0].version != both[1].version


def test_an_agreement_ending_inside_the_period_is_returned_with_its_end(
    kraken: KrakenTariffSource,
) -> None:
    found = kraken.contracts_overlapping(
        customer=MULTIPLE,
        reference="KRP-2000001",
        direction="EXPORT",
        start=utc(2026, 11, 18),
        end=utc(2026, 11, 22),
    )
    assert [(c.tariff_key, c.end_at) for c in found] == [
        ("E-1R-OUTGOING-FIX-12M-19-05-13-C", utc(2026, 11, 20))
    ]
    assert (
        kraken.contract_in_force(
            customer=MULTIPLE, reference="KRP-2000001", direction="EXPORT", at=utc(2026, 11, 21)
        )
        is None
    )


def test_a_future_agreement_is_found_for_a_period_that_reaches_it(
    kraken: KrakenTariffSource,
) -> None:
    found = kraken.contracts_overlapping(
        customer=MULTIPLE,
        reference="KRP-2000001",
        direction="IMPORT",
        start=utc(2026, 11, 28),
        end=utc(2026, 12, 3),
    )
    assert [c.tariff_key for c in found] == ["E-1R-VAR-22-11-01-C", "E-1R-AGILE-24-10-01-C"]
    assert found[1].start_at == utc(2026, 12, 1)


def test_an_unknown_supply_point_has_no_contract(kraken: KrakenTariffSource) -> None:
    assert (
        kraken.contract_in_force(
            customer=SINGLE, reference="KRP-9999999", direction="IMPORT", at=utc(2026, 11, 1)
        )
        is None
    )


# --- tariffs and prices (REST) --------------------------------------------------------------


def _contract(
    kraken: KrakenTariffSource,
    customer: Customer,
    reference: str,
    at: dt.datetime,
    direction: str = "IMPORT",
) -> Any:
    contract = kraken.contract_in_force(
        customer=customer, reference=reference, direction=direction, at=at
    )
    assert contract is not None
    return contract


def test_pence_become_pounds_exactly_never_rounded() -> None:
    assert pence_to_major(Decimal("24.9")) == Decimal("0.249")
    assert pence_to_major(Decimal("-2.4255")) == Decimal("-0.024255")
    assert pence_to_major(Decimal("23.714286")) == Decimal("0.23714286")


def test_a_flat_tariff_maps_to_one_all_day_rule_with_its_standing_charge(
    kraken: KrakenTariffSource,
) -> None:
    at = utc(2026, 10, 20, 12)
    tariff = kraken.tariff(contract=_contract(kraken, SINGLE, "KRP-1000001", at), at=at)
    assert tariff.pricing == "schedule"
    assert tariff.name == "Flexible Octopus"
    assert (tariff.currency, tariff.timezone, tariff.region) == ("GBP", "Europe/London", "C")
    assert tariff.prices_include_vat is True
    assert tariff.standing_charge == Decimal("0.6012")
    [rule] = tariff.rules
    assert (rule.valid_from, rule.valid_to, rule.unit_rate) == ("00:00", "24:00", Decimal("0.249"))
    assert tariff.valid_until is None  # no change announced


def test_vat_exclusive_values_are_used_for_every_kind_when_configured(
    kraken: KrakenTariffSource, settings: Any
) -> None:
    settings.KRAKEN_PRICES_INCLUDE_VAT = False
    at = utc(2026, 10, 20, 12)
    tariff = kraken.tariff(contract=_contract(kraken, SINGLE, "KRP-1000001", at), at=at)
    assert tariff.prices_include_vat is False
    assert tariff.rules[0].unit_rate == Decimal("0.23714286")
    assert tariff.standing_charge == Decimal("0.57257143")


def test_day_and_night_windows_are_read_from_the_rates_not_assumed(
    kraken: KrakenTariffSource,
) -> None:
    at = utc(2026, 11, 26, 12)
    tariff = kraken.tariff(contract=_contract(kraken, MULTIPLE, "KRP-2000002", at), at=at)
    assert tariff.pricing == "schedule"
    assert [(r.valid_from, r.valid_to, r.unit_rate) for r in tariff.rules] == [
        ("00:00", "00:30", Decimal("0.2961")),
        ("00:30", "07:30", Decimal("0.130725")),
        ("07:30", "24:00", Decimal("0.2961")),
    ]
    rates = tariff_rates_between(
        rules=tariff.rules, timezone=tariff.timezone, start=utc(2026, 11, 26), end=utc(2026, 11, 27)
    )
    assert [(r.start.hour, r.start.minute, r.unit_rate) for r in rates] == [
        (0, 0, Decimal("0.2961")),
        (0, 30, Decimal("0.130725")),
        (7, 30, Decimal("0.2961")),
    ]


def test_day_and_night_rates_without_windows_are_refused_not_guessed(
    kraken: KrakenTariffSource,
) -> None:
    from accounts.sources.base import ContractTerm

    contract = ContractTerm(
        supply_point_reference="KRP-2000002",
        direction="IMPORT",
        start_at=utc(2026, 1, 1),
        end_at=None,
        tariff_key="E-2R-LEGACY-19-01-01-C",
        version="x",
    )
    with pytest.raises(TariffSourceMalformed, match="windows"):
        kraken.tariff(contract=contract, at=utc(2026, 11, 26, 12))


def test_an_export_tariff_is_priced_per_kwh_without_standing_charge(
    kraken: KrakenTariffSource,
) -> None:
    at = utc(2026, 11, 10)
    contract = _contract(kraken, MULTIPLE, "KRP-2000001", at, direction="EXPORT")
    tariff = kraken.tariff(contract=contract, at=at)
    assert tariff.rules[0].unit_rate == Decimal("0.15")
    assert tariff.standing_charge == Decimal(0)


def test_agile_prices_across_the_autumn_dst_change_are_exact_paged_and_may_be_negative(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    at = utc(2026, 10, 25, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    tariff = kraken.tariff(contract=contract, at=at)
    assert tariff.pricing == "published"
    assert tariff.rules == ()
    # The local day of 25 October 2026 lasts 25 hours: 50 half hours, over two pages.
    start, end = utc(2026, 10, 24, 23), utc(2026, 10, 26, 0)
    series = kraken.prices_between(
        contract=contract, start=start, end=end, now=utc(2026, 10, 25, 12)
    )
    assert len(series.intervals) == 50
    assert series.intervals[0].valid_from == start and series.intervals[-1].valid_to == end
    assert all(
        a.valid_to == b.valid_from
        for a, b in zip(series.intervals, series.intervals[1:], strict=False)
    )
    assert min(i.rate for i in series.intervals) == Decimal("-0.024255")
    assert series.published_until == end
    assert any("page=2" in url for url in replay.rest_calls)
    # Prices for the next day are expected at 16:00 local (GMT by then) the day before.
    assert series.next_update == utc(2026, 10, 25, 16)


def test_agile_prices_not_yet_published_are_absent_not_invented(
    kraken: KrakenTariffSource,
) -> None:
    at = utc(2026, 10, 26, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    series = kraken.prices_between(
        contract=contract, start=utc(2026, 10, 26, 12), end=utc(2026, 10, 27, 12), now=at
    )
    assert series.intervals[-1].valid_to == utc(2026, 10, 27, 0)
    assert series.published_until == utc(2026, 10, 27, 0)


def test_a_flat_tariff_has_no_price_series(kraken: KrakenTariffSource) -> None:
    at = utc(2026, 10, 20, 12)
    with pytest.raises(ValueError, match="schedule"):
        kraken.prices_between(
            contract=_contract(kraken, SINGLE, "KRP-1000001", at),
            start=at,
            end=at + dt.timedelta(hours=1),
        )


# --- authentication ----------------------------------------------------------------------


def test_the_token_is_bought_with_the_organisation_key_once_and_reused(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    kraken.supply_points(customer=SINGLE)
    kraken.supply_points(customer=MULTIPLE)
    assert replay.tokens_issued == 1
    queries = [c for c in replay.graphql_calls if c["operation"] == "AccountSupplyPoints"]
    assert [c["authorization"] for c in queries] == ["fixture-jwt-aaaa.bbbb.cccc-1"] * 2


def test_an_api_key_is_used_when_no_organisation_key_is_set(
    kraken: KrakenTariffSource, replay: KrakenReplay, settings: Any
) -> None:
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = ""
    settings.KRAKEN_API_KEY = "api_key_fixture"
    kraken.supply_points(customer=SINGLE)
    assert replay.tokens_issued == 1


def test_an_expired_token_is_replaced_and_the_query_repeated(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("AccountSupplyPoints", "expired-token")
    assert len(kraken.supply_points(customer=SINGLE)) == 1
    assert replay.tokens_issued == 2
    queries = [c for c in replay.graphql_calls if c["operation"] == "AccountSupplyPoints"]
    assert [c["authorization"][-2:] for c in queries] == ["-1", "-2"]


def test_a_token_about_to_expire_is_renewed_before_use(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.token_exp = int(time.time()) + 30  # inside the renewal margin
    kraken.supply_points(customer=SINGLE)
    kraken.supply_points(customer=MULTIPLE)
    assert replay.tokens_issued == 2


def test_http_401_on_a_query_buys_a_new_token_once(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("AccountSupplyPoints", _status(HTTPStatus.UNAUTHORIZED))
    assert len(kraken.supply_points(customer=SINGLE)) == 1
    assert replay.tokens_issued == 2


def test_a_token_refused_twice_is_a_configuration_problem(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("AccountSupplyPoints", "expired-token", "expired-token")
    with pytest.raises(TariffSourceMisconfigured):
        kraken.supply_points(customer=SINGLE)


def test_a_refused_organisation_key_is_a_configuration_problem_and_never_logged(
    kraken: KrakenTariffSource, replay: KrakenReplay, caplog: Any
) -> None:
    replay.queue("ObtainKrakenToken", "refused")
    with pytest.raises(TariffSourceMisconfigured, match="KT-CT-1135") as error:
        kraken.supply_points(customer=SINGLE)
    assert "sk_fixture_organisation_secret" not in str(error.value)
    assert "sk_fixture_organisation_secret" not in caplog.text


def test_no_credential_is_a_configuration_problem(
    kraken: KrakenTariffSource, settings: Any
) -> None:
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = ""
    with pytest.raises(TariffSourceMisconfigured):
        kraken.supply_points(customer=SINGLE)


# --- Kraken's GraphQL error codes (sources in fixtures/kraken/README.md) ---------------------


def _account_queries(replay: KrakenReplay) -> list[dict[str, Any]]:
    return [c for c in replay.graphql_calls if c["operation"] == "AccountSupplyPoints"]


def test_an_account_the_organisation_may_not_read_is_that_customers_no_account_at_once(
    kraken: KrakenTariffSource, replay: KrakenReplay, caplog: pytest.LogCaptureFixture
) -> None:
    replay.queue("AccountSupplyPoints", "unauthorized")  # KT-CT-4177, errorType AUTHORIZATION
    with pytest.raises(SupplyAccountNotFound):
        kraken.supply_points(customer=SINGLE)
    assert "KT-CT-4177" in caplog.text  # the operator can tell it from a plain unknown account
    # A permission is not an expired token: no new token, no second query.
    assert replay.tokens_issued == 1
    assert len(_account_queries(replay)) == 1


def test_kraken_rate_limit_is_unavailable_with_retry_after_and_not_pressed_again(
    kraken: KrakenTariffSource, replay: KrakenReplay, settings: Any
) -> None:
    settings.TARIFF_SOURCE_RETRY_AFTER = 120
    replay.queue("AccountSupplyPoints", *["rate-limited"] * 5)  # KT-CT-1199
    with pytest.raises(TariffSourceUnavailable, match="KT-CT-1199") as error:
        kraken.supply_points(customer=SINGLE)
    assert not isinstance(error.value, TariffSourceMalformed)
    assert error.value.retry_after == 120
    assert len(_account_queries(replay)) == 1


def test_a_rate_limited_token_request_is_unavailable_not_a_refused_key(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("ObtainKrakenToken", "rate-limited")
    with pytest.raises(TariffSourceUnavailable) as error:
        kraken.supply_points(customer=SINGLE)
    assert error.value.retry_after is not None


def test_a_query_kraken_calls_invalid_is_malformed(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("AccountSupplyPoints", "invalid")  # errorType VALIDATION
    with pytest.raises(TariffSourceMalformed, match="invalid"):
        kraken.supply_points(customer=SINGLE)
    assert len(_account_queries(replay)) == 1


def _graphql_error(extensions: dict[str, str]) -> Any:
    body = {"data": {"account": None}, "errors": [{"message": "m", "extensions": extensions}]}
    return _status(HTTPStatus.OK, json.dumps(body))


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        # Codes decide before types, in either spelling deployments document.
        ({"errorCode": "KT_CT_1124_JWT_EXPIRED"}, "a new token"),
        ({"errorCode": "KT-CT-1112", "errorType": "AUTHORIZATION"}, "a new token"),
        ({"errorCode": "KT-CT-10006", "errorType": "NOT_FOUND"}, SupplyAccountNotFound),
        ({"errorCode": "KT-CT-1128", "errorType": "AUTHORIZATION"}, TariffSourceMisconfigured),
        # Unknown codes fall back to errorType, spelled with a space on some deployments.
        ({"errorCode": "KT-CT-9999", "errorType": "NOT FOUND"}, SupplyAccountNotFound),
        ({"errorCode": "KT-CT-9999", "errorType": "AUTHENTICATION"}, "a new token"),
        ({"errorCode": "KT-CT-9999", "errorType": "APPLICATION"}, TariffSourceUnavailable),
    ],
)
def test_graphql_errors_are_classified_by_known_code_then_by_type(
    kraken: KrakenTariffSource, replay: KrakenReplay, extensions: Any, expected: Any
) -> None:
    replay.queue("AccountSupplyPoints", _graphql_error(extensions))
    if expected == "a new token":
        assert len(kraken.supply_points(customer=SINGLE)) == 1
        assert replay.tokens_issued == 2
        return
    with pytest.raises(expected):
        kraken.supply_points(customer=SINGLE)
    assert replay.tokens_issued == 1


# --- failures -----------------------------------------------------------------------------


def test_a_customer_without_account_number_has_no_supply_account(
    kraken: KrakenTariffSource,
) -> None:
    with pytest.raises(SupplyAccountNotFound):
        kraken.supply_points(customer=Customer(None))


def test_an_account_kraken_does_not_know_is_not_found(kraken: KrakenTariffSource) -> None:
    with pytest.raises(SupplyAccountNotFound):
        kraken.supply_points(customer=Customer("A-0000NONE"))


@pytest.mark.parametrize(
    "answer",
    [
        _raise(requests.ConnectTimeout()),
        _raise(requests.ReadTimeout()),
        _raise(requests.ConnectionError()),
        _status(HTTPStatus.BAD_GATEWAY),
        _status(HTTPStatus.SERVICE_UNAVAILABLE),
        retry_later := _status(HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": "1"}),
        _status(HTTPStatus.TOO_MANY_REQUESTS),
        "internal-error",
    ],
    ids=[
        "connect-timeout",
        "read-timeout",
        "connection",
        "502",
        "503",
        "503-retry-after",
        "429",
        "graphql-errors",
    ],
)
def test_kraken_down_is_unavailable_after_retries_within_the_deadline(
    kraken: KrakenTariffSource, replay: KrakenReplay, answer: Any
) -> None:
    replay.queue("AccountSupplyPoints", *[answer] * 10)
    started = time.monotonic()
    with pytest.raises(TariffSourceUnavailable) as error:
        kraken.supply_points(customer=SINGLE)
    assert not isinstance(error.value, TariffSourceMalformed)
    assert time.monotonic() - started < 2.0
    queries = [c for c in replay.graphql_calls if c["operation"] == "AccountSupplyPoints"]
    # Transport errors are retried; a Retry-After beyond the deadline and GraphQL errors are not.
    assert len(queries) >= (1 if answer in ("internal-error", retry_later) else 2)


def test_a_transient_failure_then_success_is_retried_transparently(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    replay.queue("AccountSupplyPoints", _status(HTTPStatus.BAD_GATEWAY))
    assert len(kraken.supply_points(customer=SINGLE)) == 1


@pytest.mark.parametrize(
    "answer",
    [
        "malformed",
        _status(HTTPStatus.OK, "<html>maintenance</html>"),
        _status(HTTPStatus.OK, json.dumps({"data": {"account": {"number": "A-1111AAAA"}}})),
        _status(HTTPStatus.OK, json.dumps([1, 2])),
    ],
    ids=["bad-datetime", "not-json", "no-properties", "not-an-object"],
)
def test_a_malformed_answer_is_refused_not_guessed(
    kraken: KrakenTariffSource, replay: KrakenReplay, answer: Any
) -> None:
    replay.queue("AccountSupplyPoints", answer)
    with pytest.raises(TariffSourceMalformed):
        kraken.supply_points(customer=SINGLE)


def test_a_rest_timeout_or_5xx_is_unavailable(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    at = utc(2026, 10, 20, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    replay.fail_rest(*[_raise(requests.ReadTimeout())] * 2, *[_status(500)] * 10)
    with pytest.raises(TariffSourceUnavailable):
        kraken.tariff(contract=contract, at=at)


def test_a_malformed_rest_page_is_refused(kraken: KrakenTariffSource, replay: KrakenReplay) -> None:
    at = utc(2026, 10, 20, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    page = fixture("rest/E-1R-VAR-22-11-01-C/standing-charges/any.json")
    page["results"][0]["value_inc_vat"] = "sixty"
    replay.fail_rest(_status(200, json.dumps(page)))
    with pytest.raises(TariffSourceMalformed):
        kraken.tariff(contract=contract, at=at)


def test_a_next_link_leading_elsewhere_is_refused(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    at = utc(2026, 10, 20, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    page = fixture("rest/E-1R-VAR-22-11-01-C/standing-charges/any.json")
    page["next"] = "https://elsewhere.example/steal?page=2"
    replay.fail_rest(_status(200, json.dumps(page)))
    with pytest.raises(TariffSourceMalformed, match="next"):
        kraken.tariff(contract=contract, at=at)


# --- cache, staleness, versions, metrics -----------------------------------------------------


def test_a_second_read_is_answered_from_the_shared_cache(
    kraken: KrakenTariffSource, replay: KrakenReplay
) -> None:
    at = utc(2026, 10, 20, 12)
    first = kraken.tariff(contract=_contract(kraken, SINGLE, "KRP-1000001", at), at=at)
    calls = (len(replay.graphql_calls), len(replay.rest_calls))
    other_worker = KrakenTariffSource()  # another process: no token, same shared cache
    second = other_worker.tariff(contract=_contract(other_worker, SINGLE, "KRP-1000001", at), at=at)
    assert (len(replay.graphql_calls), len(replay.rest_calls)) == calls
    assert second == first


def test_the_data_version_is_the_same_on_a_cold_cache_elsewhere(
    kraken: KrakenTariffSource, settings: Any
) -> None:
    at = utc(2026, 10, 25, 12)
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    version = kraken.tariff(contract=contract, at=at).version
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"other-{uuid.uuid4().hex[:8]}"}
    }
    elsewhere = KrakenTariffSource()
    again = _contract(elsewhere, SINGLE, "KRP-1000001", at)
    assert again.version == contract.version
    assert elsewhere.tariff(contract=again, at=at).version == version


def test_when_kraken_is_down_the_last_known_answer_is_served_flagged_stale(
    kraken: KrakenTariffSource, replay: KrakenReplay, settings: Any
) -> None:
    settings.KRAKEN_AGREEMENTS_TTL = 0  # stale at once
    live = kraken.supply_points(customer=SINGLE)
    stale_before = (
        REGISTRY.get_sample_value(
            "fp_tariff_source_stale_answers_total", {"source": "kraken", "kind": "account"}
        )
        or 0
    )
    replay.queue("AccountSupplyPoints", *[_status(503)] * 10)
    with freshness_scope() as freshness:
        remembered = kraken.supply_points(customer=SINGLE)
    assert remembered == live
    assert freshness.stale
    assert (
        REGISTRY.get_sample_value(
            "fp_tariff_source_stale_answers_total", {"source": "kraken", "kind": "account"}
        )
        == stale_before + 1
    )


def test_past_the_staleness_limit_kraken_down_is_unavailable_with_retry_after(
    kraken: KrakenTariffSource, replay: KrakenReplay, settings: Any
) -> None:
    settings.KRAKEN_AGREEMENTS_TTL = 0
    kraken.supply_points(customer=SINGLE)
    settings.TARIFF_SOURCE_MAX_STALENESS = 0
    replay.queue("AccountSupplyPoints", *[_status(503)] * 10)
    with freshness_scope() as freshness, pytest.raises(TariffSourceUnavailable) as error:
        kraken.supply_points(customer=SINGLE)
    assert error.value.retry_after == settings.TARIFF_SOURCE_RETRY_AFTER
    assert not freshness.stale


def test_fresh_answers_are_not_flagged_stale(kraken: KrakenTariffSource) -> None:
    with freshness_scope() as freshness:
        kraken.supply_points(customer=SINGLE)
        kraken.supply_points(customer=SINGLE)
    assert not freshness.stale


def test_calls_and_cache_use_are_measured(kraken: KrakenTariffSource) -> None:
    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok = {"source": "kraken", "operation": "accountsupplypoints", "result": "ok"}
    hits = {"source": "kraken", "kind": "account", "result": "hit"}
    misses = {"source": "kraken", "kind": "account", "result": "miss"}
    before = [
        sample("fp_tariff_source_call_seconds_count", ok),
        sample("fp_tariff_source_cache_total", hits),
        sample("fp_tariff_source_cache_total", misses),
    ]
    kraken.supply_points(customer=SINGLE)
    kraken.supply_points(customer=SINGLE)
    after = [
        sample("fp_tariff_source_call_seconds_count", ok),
        sample("fp_tariff_source_cache_total", hits),
        sample("fp_tariff_source_cache_total", misses),
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]


def test_a_half_hourly_tariff_stays_published_on_a_day_without_prices_yet(
    kraken: KrakenTariffSource,
) -> None:
    at = utc(2026, 11, 3, 12)  # no Agile prices were recorded for this day
    contract = _contract(kraken, SINGLE, "KRP-1000001", at)
    tariff = kraken.tariff(contract=contract, at=at)
    assert tariff.pricing == "published"
    series = kraken.prices_between(contract=contract, start=at, end=at + dt.timedelta(hours=2))
    assert series.intervals == () and series.published_until is None


def test_after_a_failure_remembered_answers_are_served_without_waiting_on_kraken(
    kraken: KrakenTariffSource, replay: KrakenReplay, settings: Any
) -> None:
    settings.KRAKEN_AGREEMENTS_TTL = 0
    kraken.supply_points(customer=SINGLE)
    replay.queue("AccountSupplyPoints", *[_status(503)] * 10)
    kraken.supply_points(customer=SINGLE)  # waits out the retries once, serves stale
    calls = len(replay.graphql_calls)
    started = time.monotonic()
    with freshness_scope() as freshness:
        KrakenTariffSource().supply_points(customer=SINGLE)  # another worker, moments later
    assert freshness.stale
    assert len(replay.graphql_calls) == calls  # Kraken not asked again
    assert time.monotonic() - started < 0.1
