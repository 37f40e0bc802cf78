"""The connect flow reads our own database through the tariff source interface, as it reads a
billing platform: the addresses offered, the consent page's chart and the contract term sent to
FlatPeak all come from the source, and recording our own premises writes nothing."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Premise, User
from accounts.timefmt import rfc3339
from provider_auth.connect.models import ConnectSession
from tests.accounts.sources.recording import RecordingTariffSource
from tests.provider_auth.connect.conftest import Browser, FakeFlatPeak, allow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("flatpeak_client")]


def test_addresses_chart_and_contract_term_come_from_the_source(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    customer_with_premise: tuple[User, Premise],
    recording_source: RecordingTariffSource,
) -> None:
    customer, premise = customer_with_premise
    contract = premise.contracts.get()
    fake_flatpeak.context()
    login_page = browser.open()
    assert recording_source.calls == []  # nobody to ask about before the login
    logged_in = browser.log_in(login_page, "ada@example.com")
    assert logged_in.status_code == HTTPStatus.SEE_OTHER
    # The one eligible place is chosen at login.
    assert recording_source.calls == [
        ("supply_points", customer.pk),
        ("contract_in_force", "PRM-000123", "IMPORT"),
    ]
    recording_source.calls.clear()

    consent = browser.get(logged_in["Location"])
    assert b"Your tariff: Fixed Saver" in consent.content and b"<svg" in consent.content
    assert recording_source.calls == [
        ("supply_points", customer.pk),
        ("contract_in_force", "PRM-000123", "IMPORT"),  # still eligible: offered
        ("contract_in_force", "PRM-000123", "IMPORT"),  # its tariff, for the chart
        ("tariff", "PRM-000123", "IMPORT"),
    ]
    recording_source.calls.clear()

    fake_flatpeak.acknowledge()
    assert allow(browser, consent).status_code == HTTPStatus.SEE_OTHER
    assert recording_source.calls == [
        ("supply_points", customer.pk),
        ("contract_in_force", "PRM-000123", "IMPORT"),  # still eligible when allowed
        ("contract_in_force", "PRM-000123", "IMPORT"),  # the contract term sent
    ]
    [body] = fake_flatpeak.submitted_bodies()
    assert body["reference_id"] == "PRM-000123"
    assert body["contract_term"] == {
        "contract_start_date": rfc3339(contract.start_at),
        "contract_end_date": rfc3339(contract.end_at),
    }


def test_the_address_choice_offers_the_places_the_source_names(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    customer: User,
    make_premise: Any,
    make_contract: Any,
    recording_source: RecordingTariffSource,
) -> None:
    make_contract(premise=make_premise(customer=customer, reference="PRM-000001"))
    make_contract(premise=make_premise(customer=customer, reference="PRM-000002"))
    make_premise(customer=customer, reference="PRM-000003")  # no contract: not offered
    fake_flatpeak.context()
    choose = browser.get(browser.log_in(browser.open(), "ada@example.com")["Location"])
    page = choose.content.decode()
    assert 'value="PRM-000001"' in page and 'value="PRM-000002"' in page
    assert "PRM-000003" not in page
    recording_source.calls.clear()
    chosen = browser.post(browser.action(choose, "address"), {"premise": "PRM-000002"})
    assert chosen.status_code == HTTPStatus.SEE_OTHER
    assert ConnectSession.objects.get().premise.reference == "PRM-000002"
    assert ("supply_points", customer.pk) in recording_source.calls
    assert ("contract_in_force", "PRM-000002", "IMPORT") in recording_source.calls


def test_recording_our_own_premises_at_login_writes_none_of_them(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    customer_with_premise: tuple[User, Premise],
    recording_source: RecordingTariffSource,
) -> None:
    _customer, premise = customer_with_premise
    fake_flatpeak.context()
    login_page = browser.open()
    with CaptureQueriesContext(connection) as queries:
        browser.log_in(login_page, "ada@example.com")
    assert ("supply_points", premise.customer_id) in recording_source.calls
    premise_reads = [q["sql"] for q in queries.captured_queries if "accounts_premise" in q["sql"]]
    assert premise_reads, "the login did not look at the premises at all"
    writes = [
        sql
        for sql in premise_reads
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert Premise.objects.get().updated_at == premise.updated_at
    assert ConnectSession.objects.get().premise == premise
