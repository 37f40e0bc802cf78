"""The customer's account page and price charts on the Kraken source (recorded answers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from tests.accounts.sources.kraken_replay import KrakenReplay

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_the_account_page_shows_every_place_tariff_and_chart_from_kraken(
    replay: KrakenReplay, client: Any, make_customer: Callable[..., User]
) -> None:
    client.force_login(make_customer(account_number="A-2222BBBB"))
    response = client.get("/account/", secure=True)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "1 Fixture Lane, Sampleford, ZZ9 9ZZ" in page
    assert "Unit 3, Example Court, Demoville, ZZ8 8ZZ" in page
    assert "Flexible Octopus Economy 7" in page
    assert "KRP-2000002" in page
    assert "Outgoing Fixed" not in page  # ended on 20 November
    assert page.count("<svg") >= 2  # a chart per tariff in force


def test_the_account_page_says_when_the_billing_system_is_down(
    replay: KrakenReplay, client: Any, make_customer: Callable[..., User]
) -> None:
    replay.queue("AccountSupplyPoints", *[lambda: (503, {}, "")] * 20)
    client.force_login(make_customer(account_number="A-2222BBBB"))
    response = client.get("/account/", secure=True)
    assert response.status_code == HTTPStatus.OK
    assert "temporarily unavailable" in response.content.decode()


def test_a_customer_unknown_to_kraken_sees_no_addresses(
    replay: KrakenReplay, client: Any, make_customer: Callable[..., User]
) -> None:
    client.force_login(make_customer(account_number="A-0000NONE"))
    response = client.get("/account/", secure=True)
    assert response.status_code == HTTPStatus.OK
    assert "There are no supply addresses on your account yet." in response.content.decode()
