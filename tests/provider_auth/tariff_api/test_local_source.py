"""The tariff API's per-request local source answers exactly as `LocalTariffSource` does.

`PollingLocalTariffSource` reads fewer, folded queries (see its module); these tests hold its
answers to the reference implementation's for schedule, published and market-indexed tariffs,
a contract switching inside a range, and the fall-backs (another premise, another instant).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Direction, Pricing, Tariff
from accounts.prices import local_day_bounds
from accounts.sources.local import LocalTariffSource
from provider_auth.tariff_api import sql
from provider_auth.tariff_api.local_source import PollingLocalTariffSource
from provider_auth.tariff_api.sourced import SourceCustomer
from tests.provider_auth.tariff_api.test_priced_tariffs import publish, publish_zone

UTC = dt.UTC
pytestmark = pytest.mark.django_db


def hour(day: dt.datetime, h: int) -> dt.datetime:
    return day + dt.timedelta(hours=h)


@pytest.fixture
def switching_premise(make_premise: Any, make_contract: Any, make_tariff: Any) -> Any:
    """A schedule contract until midnight, a published-prices one from then, both with prices."""
    # Local midnight in London, where the tariff's days are (46, 48 or 50 half hours).
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    midnight, day_end = local_day_bounds(day=today, timezone="Europe/London")
    halves = int((day_end - midnight) / dt.timedelta(minutes=30))
    premise = make_premise()
    schedule = make_tariff(
        name="Two Rate", rules=[("00:00", "07:00", "0.11"), ("07:00", "24:00", "0.31")]
    )
    agile = make_tariff(name="Agile", rules=[("00:00", "24:00", "0")])
    Tariff.objects.filter(pk=agile.pk).update(pricing=Pricing.PUBLISHED)
    make_contract(
        premise=premise, tariff=schedule, start_at=midnight - dt.timedelta(days=30), end_at=midnight
    )
    make_contract(premise=premise, tariff=agile, start_at=midnight, end_at=None)
    agile.refresh_from_db()
    publish(
        agile,
        [
            (
                hour(midnight, h // 2) + dt.timedelta(minutes=30 * (h % 2)),
                hour(midnight, h // 2) + dt.timedelta(minutes=30 * (h % 2) + 30),
                Decimal("-0.0125") if h == 3 else Decimal("0.2") + Decimal(h) / 1000,
            )
            for h in range(halves)
        ],
    )
    return premise, midnight


def both(premise: Any, **poll: Any) -> tuple[LocalTariffSource, PollingLocalTariffSource, Any]:
    customer = SourceCustomer(pk=premise.customer_id, account_number=None)
    polling = PollingLocalTariffSource(premise=premise, customer_pk=premise.customer_id, **poll)
    return LocalTariffSource(), polling, customer


def test_contracts_tariffs_and_prices_over_a_switch_equal_the_reference(
    switching_premise: Any,
) -> None:
    premise, midnight = switching_premise
    reference, polling, customer = both(premise)
    start, end = midnight - dt.timedelta(hours=6), midnight + dt.timedelta(hours=12)
    ask = {"customer": customer, "reference": premise.reference, "direction": Direction.IMPORT}
    expected = reference.contracts_overlapping(**ask, start=start, end=end)
    got = polling.contracts_overlapping(**ask, start=start, end=end)
    # The same contracts; read with the range, each also carries its tariff's and series'
    # version, which the reference leaves to `tariff` and `prices_between`.
    assert [replace(term, tariff_version="") for term in got] == expected and len(got) == 2
    assert all(term.tariff_version for term in got)
    for contract in got:
        at = max(start, contract.start_at)
        assert polling.tariff(contract=contract, at=at) == reference.tariff(
            contract=contract, at=at
        )
    agile = got[-1]
    now = midnight + dt.timedelta(hours=13)
    assert polling.prices_between(contract=agile, start=midnight, end=end, now=now) == (
        reference.prices_between(contract=agile, start=midnight, end=end, now=now)
    )
    series = polling.prices_between(contract=agile, start=midnight, end=end, now=now)
    assert min(p.rate for p in series.intervals) == Decimal("-0.0125")


def test_market_indexed_prices_equal_the_reference(
    make_premise: Any, make_contract: Any, make_market_tariff: Any
) -> None:
    tariff = make_market_tariff(bands=[("00:00", "24:00", "0.12", "0.19")])
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    day, day_end = local_day_bounds(day=today, timezone="Europe/Berlin")
    quarters = int((day_end - day) / dt.timedelta(minutes=15))
    publish_zone(
        "DE-LU",
        [
            (
                day + dt.timedelta(minutes=15 * q),
                day + dt.timedelta(minutes=15 * q + 15),
                Decimal(80 + q),
            )
            for q in range(quarters)
        ],
    )
    premise = make_premise(country_code="DE")
    make_contract(premise=premise, tariff=tariff, start_at=day - dt.timedelta(days=1), end_at=None)
    reference, polling, customer = both(premise)
    ask = {"customer": customer, "reference": premise.reference, "direction": Direction.IMPORT}
    (contract,) = polling.contracts_overlapping(**ask, start=day, end=day + dt.timedelta(days=1))
    now = day + dt.timedelta(hours=20)
    got = polling.prices_between(
        contract=contract, start=day, end=day + dt.timedelta(hours=6), now=now
    )
    assert got == reference.prices_between(
        contract=contract, start=day, end=day + dt.timedelta(hours=6), now=now
    )
    # (80 €/MWh → 0.08 €/kWh + 0.12) × 1.19, exactly
    assert got.intervals[0].rate == Decimal("0.2380")


def test_the_contract_in_force_comes_from_query_1_rows_and_equals_the_reference(
    switching_premise: Any, token_for_premise: Any
) -> None:
    premise, midnight = switching_premise
    at = timezone.now()
    found = sql.polling_token_fetch(token_hash=token_for_premise(premise), at=at)
    assert found is not None
    reference, polling, customer = both(premise, at=at, in_force=tuple(found[1]))
    ask = {"customer": customer, "reference": premise.reference, "direction": Direction.IMPORT}
    got = polling.contract_in_force(**ask, at=at)
    expected = reference.contract_in_force(**ask, at=at)
    assert got is not None and expected is not None
    # Same contract; query 1 also carries the tariff's version, which the reference leaves to
    # `tariff`.
    assert (got.tariff_key, got.start_at, got.end_at, got.updated_at) == (
        expected.tariff_key,
        expected.start_at,
        expected.end_at,
        expected.updated_at,
    )
    assert got.tariff_version and not expected.tariff_version
    assert replace(got, tariff_version="") == expected  # the same contract version too
    # Another instant or another premise: asked of the database, like the reference.
    earlier = midnight - dt.timedelta(days=1)
    assert polling.contract_in_force(**ask, at=earlier) == reference.contract_in_force(
        **ask, at=earlier
    )
    assert polling.contract_in_force(**{**ask, "reference": "PRM-NONE"}, at=at) is None


@pytest.fixture
def token_for_premise(make_oauth_client: Any) -> Any:
    from provider_auth.oauth.services import grant_issue
    from provider_auth.oauth.tokens import secret_hash

    client, _ = make_oauth_client()

    def issue(premise: Any) -> str:
        _, tokens = grant_issue(
            customer=premise.customer,
            premise=premise,
            client=client,
            scope="tariff:read",
            directions=[Direction.IMPORT],
        )
        return secret_hash(tokens.access_token)

    return issue


def test_the_tariff_api_asks_the_interface_on_our_own_database(
    issue: Any, api_get: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    for name in ("contract_in_force", "contracts_overlapping", "tariff", "prices_between"):
        method = getattr(PollingLocalTariffSource, name)

        def spy(self: Any, *args: Any, _name: str = name, _method: Any = method, **kw: Any) -> Any:
            asked.append(_name)
            return _method(self, *args, **kw)

        monkeypatch.setattr(PollingLocalTariffSource, name, spy)
    token = issue()[1].access_token
    assert api_get("/api/v1/tariff", token).status_code == 200
    assert asked == ["contract_in_force", "tariff"]
    asked.clear()
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    rates = api_get(
        "/api/v1/tariff/rates",
        token,
        data={
            "start_time": now.isoformat().replace("+00:00", "Z"),
            "end_time": (now + dt.timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        },
    )
    assert rates.status_code == 200
    assert asked == ["contracts_overlapping", "tariff"]
