"""The README's example adapter (docs/examples/static_tariff_source.py) really works: it passes
the system check and the tariff API serves its tariff."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from accounts.models import Premise, User
from accounts.sources import tariff_source_reset
from accounts.sources.base import TariffSource
from accounts.sources.checks import check_tariff_source
from provider_auth.oauth.services import grant_issue

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


@pytest.fixture
def example_source(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    settings.TARIFF_SOURCE = "static_tariff_source.StaticTariffSource"
    tariff_source_reset()
    yield settings
    tariff_source_reset()


def test_the_example_adapter_implements_the_interface_and_passes_the_check(
    example_source: Any,
) -> None:
    from static_tariff_source import StaticTariffSource  # type: ignore[import-not-found]

    assert isinstance(StaticTariffSource(), TariffSource)
    assert check_tariff_source() == []


@pytest.mark.django_db
def test_the_tariff_api_serves_the_example_adapters_tariff(
    example_source: Any,
    make_customer: Callable[..., User],
    make_premise: Callable[..., Premise],
    make_oauth_client: Callable[..., Any],
    client: Any,
) -> None:
    customer = make_customer(account_number="ACC-0001")
    premise = make_premise(customer=customer, reference="EXT-000001")
    token = grant_issue(
        customer=customer,
        premise=premise,
        client=make_oauth_client(client_id="flatpeak")[0],
        directions=["IMPORT"],
    )[1].access_token
    response = client.get("/api/v1/tariff", secure=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["name"], body["standing_charge"]) == ("Flat 24", 0.5)
    assert body["rules"][0]["unit_rate"] == 0.24
