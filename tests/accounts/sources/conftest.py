from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from accounts.sources import tariff_source_reset
from accounts.sources.kraken import KrakenTariffSource
from tests.accounts.sources.kraken_replay import GRAPHQL_URL, REST_URL, KrakenReplay


@pytest.fixture
def kraken_settings(settings: Any) -> Any:
    settings.TARIFF_SOURCE = "accounts.sources.kraken.KrakenTariffSource"
    settings.KRAKEN_GRAPHQL_URL = GRAPHQL_URL
    settings.KRAKEN_REST_URL = REST_URL
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = "sk_fixture_organisation_secret"  # noqa: S105
    settings.KRAKEN_API_KEY = ""
    settings.KRAKEN_RETRY_DEADLINE = 0.5
    settings.KRAKEN_AGREEMENTS_TTL = 300
    settings.KRAKEN_PRICES_INCLUDE_VAT = True
    settings.TARIFF_SOURCE_MAX_STALENESS = 3600
    tariff_source_reset()
    return settings


@pytest.fixture
def replay(kraken_settings: Any) -> Iterator[KrakenReplay]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield KrakenReplay(mock)
    tariff_source_reset()


@pytest.fixture
def kraken(replay: KrakenReplay) -> KrakenTariffSource:
    return KrakenTariffSource()
