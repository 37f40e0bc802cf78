"""The connect flow on the Kraken source: addresses, consent and submission from recorded
Kraken answers, and the "temporarily unavailable" page while Kraken is down."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Contract, Premise, User
from provider_auth.oauth.models import OAuthClient
from tests.accounts.sources.conftest import kraken_settings  # noqa: F401
from tests.accounts.sources.kraken_replay import KrakenReplay
from tests.provider_auth.connect.conftest import SESSION_URL, Browser, FakeFlatPeak

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def kraken(kraken_settings: Any, fake_flatpeak: FakeFlatPeak) -> KrakenReplay:  # noqa: F811
    # One `responses` mock for both parties: FlatPeak's API and Kraken's.
    return KrakenReplay(fake_flatpeak.mock)


@pytest.fixture
def ada(make_customer: Callable[..., User]) -> User:
    return make_customer(email="ada@example.com", account_number="A-2222BBBB")


def _logged_in(browser: Browser, fake_flatpeak: FakeFlatPeak) -> Any:
    fake_flatpeak.context()
    response = browser.log_in(browser.open(), "ada@example.com")
    assert response.status_code == HTTPStatus.SEE_OTHER
    return browser.get(response["Location"])


@pytest.mark.django_db
def test_addresses_consent_and_submission_come_from_kraken(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: OAuthClient,
    kraken: KrakenReplay,
    ada: User,
) -> None:
    choose = _logged_in(browser, fake_flatpeak)
    assert choose.status_code == HTTPStatus.OK
    page = choose.content.decode()
    assert "1 Fixture Lane" in page and "Unit 3, Example Court" in page
    consent = browser.post(browser.action(choose, "address"), {"premise": "KRP-2000002"})
    consent = browser.get(consent["Location"])
    assert consent.status_code == HTTPStatus.OK
    assert "<svg" in consent.content.decode()  # the chart of the Economy 7 read from Kraken
    fake_flatpeak.acknowledge()
    done = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
    assert done.status_code == HTTPStatus.SEE_OTHER
    [body] = [
        json.loads(call.request.body)
        for call in fake_flatpeak.mock.calls
        if call.request.method == "POST" and call.request.url == SESSION_URL
    ]
    assert body["status"] == "AUTHORISED"
    assert body["reference_id"] == "KRP-2000002"
    assert body["postal_address"]["address_line1"] == "Unit 3"
    assert body["postal_address"]["post_code"] == "ZZ8 8ZZ"
    assert body["contract_term"] == {
        "contract_start_date": "2026-01-01T00:00:00Z",
        "contract_end_date": None,
    }
    premise = Premise.objects.get(reference="KRP-2000002")
    assert premise.customer == ada and premise.meter_point_number == "1900000000004"
    assert not Contract.objects.exists()  # nothing of the tariff is copied here


@pytest.mark.django_db
def test_kraken_down_shows_temporarily_unavailable_with_try_again_and_cancel(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: OAuthClient,
    kraken: KrakenReplay,
    ada: User,
) -> None:
    kraken.queue("AccountSupplyPoints", *[lambda: (503, {}, "")] * 40)
    page = _logged_in(browser, fake_flatpeak)  # the login itself stands
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    html = page.content.decode()
    assert "temporarily unavailable" in html
    assert "Try again" in html and "/cancel" in html
    kraken.queued.clear()  # Kraken is back
    again = browser.get(browser.step_url)
    assert again.status_code == HTTPStatus.OK
    assert "1 Fixture Lane" in again.content.decode()


@pytest.mark.django_db
def test_a_customer_kraken_does_not_know_has_no_tariff_to_share(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: OAuthClient,
    kraken: KrakenReplay,
    make_customer: Callable[..., User],
) -> None:
    make_customer(email="ada@example.com", account_number="A-0000NONE")
    page = _logged_in(browser, fake_flatpeak)
    assert page.status_code == HTTPStatus.OK
    assert "We found no tariff to share" in page.content.decode()


@pytest.mark.django_db
def test_the_step_page_writes_nothing_and_lists_places_not_recorded_yet(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: OAuthClient,
    kraken: KrakenReplay,
    ada: User,
) -> None:
    kraken.queue("AccountSupplyPoints", *[lambda: (503, {}, "")] * 40)
    _logged_in(browser, fake_flatpeak)  # Kraken down at login: nothing recorded
    kraken.queued.clear()
    assert not Premise.objects.exists()
    choose = browser.get(browser.step_url)
    assert not Premise.objects.exists()  # a GET records nothing
    assert "1 Fixture Lane" in choose.content.decode()
    consent = browser.post(browser.action(choose, "address"), {"premise": "KRP-2000001"})
    assert browser.get(consent["Location"]).status_code == HTTPStatus.OK
    # The choice (a POST) records the account's eligible places; the one chosen is the session's.
    assert sorted(Premise.objects.values_list("reference", flat=True)) == [
        "KRP-2000001",
        "KRP-2000002",
    ]
