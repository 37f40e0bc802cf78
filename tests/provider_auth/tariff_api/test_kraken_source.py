"""The tariff API on the Kraken source, end to end against recorded Kraken answers.

The server holds no tariff of its own here: the customer (with the account number the
identity provider's claim carries) and the premise FlatPeak was granted (the supply point's
reference and address) are all it stores; contracts and prices come from Kraken.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Contract, Premise, User
from provider_auth.oauth.services import grant_issue
from provider_auth.tariff_api.documents import documents
from provider_auth.tariff_api.sourced import STALE_HEADER, premise_customers_forget
from tests.accounts.sources.conftest import kraken_settings, replay  # noqa: F401
from tests.accounts.sources.kraken_replay import KrakenReplay

pytestmark = pytest.mark.django_db

# Inside the recorded agreements whenever the tests run: "now" is pinned for the whole request.
NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    premise_customers_forget()  # ids and the pinned clock repeat between tests


def _unavailable() -> Any:
    return (503, {}, "")


@pytest.fixture
def kraken_premise(
    replay: KrakenReplay,  # noqa: F811
    make_customer: Callable[..., User],
    make_premise: Callable[..., Premise],
) -> Callable[..., Premise]:
    def make(account: str | None, reference: str) -> Premise:
        customer = make_customer(account_number=account)
        return make_premise(customer=customer, reference=reference)

    return make


@pytest.fixture
def token_for(flatpeak_client: Any) -> Callable[..., str]:
    def make(premise: Premise, directions: list[str] | None = None) -> str:
        return grant_issue(
            customer=premise.customer,
            premise=premise,
            client=flatpeak_client[0],
            directions=directions or ["IMPORT"],
        )[1].access_token

    return make


def test_the_current_tariff_comes_from_kraken_in_both_formats(
    kraken_premise: Callable[..., Premise], token_for: Callable[..., str], api_get: Any
) -> None:
    premise = kraken_premise("A-2222BBBB", "KRP-2000001")
    token = token_for(premise)
    assert not Contract.objects.exists()  # nothing of the tariff is stored here
    response = api_get("/api/v1/tariff", token)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["name"] == "Flexible Octopus"
    assert body["standing_charge"] == 0.6012
    assert [(r["valid_from"], r["valid_to"], r["unit_rate"]) for r in body["rules"]] == [
        ("00:00", "24:00", 0.249)
    ]
    assert body["contract_start_date"] == "2025-12-01T00:00:00Z"
    assert body["contract_end_date"] == "2026-12-01T00:00:00Z"
    assert body["premise"]["reference"] == "KRP-2000001"
    assert STALE_HEADER not in response
    flatpeak = api_get("/api/v1/tariff?format=flatpeak", token).json()
    assert flatpeak["display_name"] == "Flexible Octopus"
    assert flatpeak["schedule"][0]["days_and_hours"][0]["hours"] == [
        {
            "valid_from": "00:00:00",
            "valid_to": "00:00:00",
            "rate": [{"value": 0.249, "to_kwh": None}],
        }
    ]


def test_a_304_is_answered_from_the_cache_without_calling_kraken(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    replay: KrakenReplay,  # noqa: F811
    django_assert_max_num_queries: Any,
) -> None:
    token = token_for(kraken_premise("A-2222BBBB", "KRP-2000001"))
    etag = api_get("/api/v1/tariff", token)["ETag"]
    calls = (len(replay.graphql_calls), len(replay.rest_calls))
    with django_assert_max_num_queries(2):  # the token, the premise's customer
        response = api_get("/api/v1/tariff", token, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert (len(replay.graphql_calls), len(replay.rest_calls)) == calls


def test_the_etag_is_the_same_on_another_worker_with_a_cold_cache(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    settings: Any,
) -> None:
    token = token_for(kraken_premise("A-2222BBBB", "KRP-2000001"))
    etag = api_get("/api/v1/tariff", token)["ETag"]
    documents.clear()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"w2-{uuid.uuid4().hex[:8]}"}
    }
    from accounts.sources import tariff_source_reset

    tariff_source_reset()  # a new process: no token, no memory
    assert api_get("/api/v1/tariff", token)["ETag"] == etag


def test_when_kraken_is_down_the_last_known_tariff_is_served_and_flagged(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    replay: KrakenReplay,  # noqa: F811
    settings: Any,
) -> None:
    settings.KRAKEN_AGREEMENTS_TTL = 0
    token = token_for(kraken_premise("A-2222BBBB", "KRP-2000001"))
    live = api_get("/api/v1/tariff", token)
    replay.queue("AccountSupplyPoints", *[_unavailable] * 20)
    stale = api_get("/api/v1/tariff", token)
    assert stale.status_code == HTTPStatus.OK
    assert stale.content == live.content
    assert int(stale[STALE_HEADER]) >= 0
    not_modified = api_get("/api/v1/tariff", token, HTTP_IF_NONE_MATCH=live["ETag"])
    assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
    assert STALE_HEADER in not_modified


def test_past_the_staleness_limit_the_api_answers_503_with_retry_after(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    replay: KrakenReplay,  # noqa: F811
    settings: Any,
) -> None:
    settings.KRAKEN_AGREEMENTS_TTL = 0
    token = token_for(kraken_premise("A-2222BBBB", "KRP-2000001"))
    assert api_get("/api/v1/tariff", token).status_code == HTTPStatus.OK
    settings.TARIFF_SOURCE_MAX_STALENESS = 0
    settings.TARIFF_SOURCE_RETRY_AFTER = 120
    replay.queue("AccountSupplyPoints", *[_unavailable] * 20)
    response = api_get("/api/v1/tariff", token)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "120"
    assert response.json() == {
        "object": "error",
        "type": "api_error",
        "code": "tariff_source_unavailable",
        "message": "The provider's billing system cannot be reached; retry after the number of "
        "seconds in Retry-After.",
    }


def test_a_malformed_kraken_answer_is_a_503_never_a_500(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    replay: KrakenReplay,  # noqa: F811
) -> None:
    replay.queue("AccountSupplyPoints", "malformed")
    token = token_for(kraken_premise("A-1111AAAA", "KRP-1000001"))
    assert api_get("/api/v1/tariff", token).status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_a_customer_without_account_number_has_no_tariff(
    kraken_premise: Callable[..., Premise], token_for: Callable[..., str], api_get: Any
) -> None:
    token = token_for(kraken_premise(None, "KRP-1000001"))
    response = api_get("/api/v1/tariff", token)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "no_tariff"


def test_rates_cross_the_midnight_tariff_change_into_agile_across_dst(
    kraken_premise: Callable[..., Premise], token_for: Callable[..., str], api_get: Any
) -> None:
    token = token_for(kraken_premise("A-1111AAAA", "KRP-1000001"))
    response = api_get(
        "/api/v1/tariff/rates?start_time=2026-10-24T22:00:00Z&end_time=2026-10-26T00:00:00Z",
        token,
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    data = body["data"]
    # One hour of the flat tariff up to local midnight, then Agile's 50 half hours of a 25-hour day.
    assert data[0] == {
        "valid_from": "2026-10-24T22:00:00Z",
        "valid_to": "2026-10-24T23:00:00Z",
        "unit_rate": 0.249,
    }
    assert len(data) == 51
    assert data[-1]["valid_to"] == "2026-10-26T00:00:00Z"
    assert min(Decimal(str(d["unit_rate"])) for d in data) == Decimal("-0.024255")
    assert body["currency"] == "GBP" and body["timezone"] == "Europe/London"
    assert response["ETag"]


def test_a_published_tariffs_document_says_how_far_its_prices_reach(
    kraken_premise: Callable[..., Premise],
    token_for: Callable[..., str],
    api_get: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Inside the recorded Agile day (the 25-hour day of the October DST change).
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 25, 12, tzinfo=dt.UTC))
    token = token_for(kraken_premise("A-1111AAAA", "KRP-1000001"))
    provider = api_get("/api/v1/tariff", token)
    assert provider.status_code == HTTPStatus.OK, provider.content
    body = provider.json()
    assert (body["name"], body["pricing"]) == ("Agile Octopus", "published")
    assert body["published_rates"]["published_until"] == "2026-10-26T00:00:00Z"
    flatpeak = api_get("/api/v1/tariff?format=flatpeak", token).json()
    assert flatpeak["published_rates"]["published_until"] == "2026-10-26T00:00:00Z"


def test_a_newly_published_day_moves_a_sourced_tariffs_version() -> None:
    from accounts.prices import PriceSeries
    from accounts.sources.base import TariffDefinition
    from provider_auth.tariff_api.sourced import tariff_version

    agile = TariffDefinition(
        key="E-1R-AGILE",
        name="Agile",
        currency="GBP",
        timezone="Europe/London",
        pricing="published",
        prices_include_vat=True,
        standing_charge=Decimal("0.48"),
        version="v1",
    )

    def reaching(until: dt.datetime) -> PriceSeries:
        return PriceSeries(
            intervals=(), published_until=until, last_updated=None, next_update=until
        )

    today = tariff_version(tariff=agile, publication=reaching(NOW))
    assert today == tariff_version(tariff=agile, publication=reaching(NOW))
    assert today != tariff_version(tariff=agile, publication=reaching(NOW + dt.timedelta(days=1)))
