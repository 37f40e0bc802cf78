"""The served fake Kraken answers what the Kraken adapter reads, and counts what reached it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from accounts.sources import tariff_source_reset
from accounts.sources.kraken import KrakenTariffSource
from tests.fakes.kraken import serving

BENCH_ACCOUNT = "A-3333CCCC"  # the benchmark's customer (open-ended agreement)


@dataclass
class Customer:
    account_number: str
    pk: Any = None


def _kraken_at(settings: Any, url: str) -> KrakenTariffSource:
    settings.TARIFF_SOURCE = "accounts.sources.kraken.KrakenTariffSource"
    settings.KRAKEN_GRAPHQL_URL = f"{url}/v1/graphql/"
    settings.KRAKEN_REST_URL = f"{url}/v1"
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = "sk_fake_organisation"  # noqa: S105
    settings.KRAKEN_API_KEY = ""
    tariff_source_reset()
    return KrakenTariffSource()


def test_the_adapter_reads_the_benchmark_account_over_http_and_the_fake_counts_it(
    settings: Any,
) -> None:
    with serving() as (url, counter):
        kraken = _kraken_at(settings, url)
        at = dt.datetime.now(dt.UTC)  # the benchmark runs whenever: the agreement is open-ended
        contract = kraken.contract_in_force(
            customer=Customer(BENCH_ACCOUNT), reference="KRP-3000001", direction="IMPORT", at=at
        )
        assert contract is not None and contract.tariff_key == "E-1R-VAR-22-11-01-C"
        tariff = kraken.tariff(contract=contract, at=at)
        assert tariff.pricing == "schedule"
        assert tariff.standing_charge == Decimal("0.6012")
        served = counter.calls
        assert served == 4  # the token, the account, the standing charges, the unit rates
        assert requests.get(f"{url}/calls", timeout=5).json() == {"calls": served}
        # Answered from the cache now: nothing more reaches the fake.
        kraken.tariff(contract=contract, at=at)
        assert counter.calls == served


def test_a_query_without_the_token_is_refused_as_kraken_does() -> None:
    with serving() as (url, _counter):
        answer = requests.post(
            f"{url}/v1/graphql/",
            json={"operationName": "AccountSupplyPoints", "variables": {"accountNumber": "x"}},
            timeout=5,
        ).json()
    assert answer["errors"][0]["extensions"]["errorCode"] == "KT-CT-1112"
