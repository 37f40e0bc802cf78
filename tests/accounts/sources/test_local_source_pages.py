"""The account page reads our own database through the tariff source interface, as it reads a
billing platform: every place, contract, tariff and published price comes from the source."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Pricing, User
from tests.accounts.sources.recording import RecordingTariffSource
from tests.accounts.test_price_charts import publish

pytestmark = pytest.mark.django_db


def test_the_account_page_asks_the_source_for_every_place_contract_and_tariff(
    client: Any, recording_source: RecordingTariffSource
) -> None:
    call_command("seed_demo")
    bob = User.objects.get(email="bob@example.com")
    client.force_login(bob)
    response = client.get(reverse("accounts:home"), secure=True)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "10 Downing Street" in page and "221B Baker Street" in page
    assert "Economy 7" in page and "EV Flex" in page and "Solar Export" in page
    assert page.count("<svg") == 4
    assert recording_source.calls == [
        ("supply_points", bob.pk),
        ("contract_in_force", "PRM-000002", "IMPORT"),
        ("tariff", "PRM-000002", "IMPORT"),
        ("contract_in_force", "PRM-000003", "IMPORT"),
        ("tariff", "PRM-000003", "IMPORT"),
        ("contract_in_force", "PRM-000003", "EXPORT"),
        ("tariff", "PRM-000003", "EXPORT"),
    ]


def test_a_place_without_a_contract_in_force_is_asked_and_shown_without_a_tariff(
    client: Any, recording_source: RecordingTariffSource
) -> None:
    call_command("seed_demo")
    carol = User.objects.get(email="carol@example.com")
    client.force_login(carol)
    page = client.get(reverse("accounts:home"), secure=True).content.decode()
    assert "5 Market Street" in page
    assert "No tariff is in force at this address today." in page
    assert recording_source.calls == [
        ("supply_points", carol.pk),
        ("contract_in_force", "PRM-000004", "IMPORT"),
    ]


def test_a_published_tariff_is_charted_from_the_sources_prices(
    client: Any,
    recording_source: RecordingTariffSource,
    make_tariff: Any,
    make_contract: Any,
) -> None:
    agile = make_tariff(name="Agile", rules=[("00:00", "24:00", "0")])
    agile.pricing = Pricing.PUBLISHED
    agile.save()
    contract = make_contract(tariff=agile)
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    for day in (today, today + dt.timedelta(days=1)):
        publish(agile, day)
    client.force_login(contract.premise.customer)
    page = client.get(reverse("accounts:home"), secure=True).content.decode()
    assert "Today" in page and "Tomorrow" in page
    assert "Cheapest -£0.0500 per kWh (13:30 to 14:00)" in page
    reference = contract.premise.reference
    assert ("prices_between", reference, "IMPORT") in recording_source.calls
