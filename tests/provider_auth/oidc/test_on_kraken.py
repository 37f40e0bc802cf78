"""No tariff of our own: the customer logs in at the identity provider, whose claim names the
Kraken account, and the places, contract term and tariff come from Kraken (recorded answers).
The connect flow and then FlatPeak's polls, end to end, on a server that stores only the
customer record and what it was granted."""

from __future__ import annotations

import datetime as dt
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Contract, Premise, Tariff, User
from tests.accounts.sources.conftest import kraken_settings  # noqa: F401 (fixture)
from tests.accounts.sources.kraken_replay import KrakenReplay
from tests.provider_auth.connect.conftest import SESSION_URL, Browser, FakeFlatPeak
from tests.provider_auth.oidc.conftest import op_log_in
from tests.provider_auth.oidc.test_federated_login import come_back, start_federated

pytestmark = pytest.mark.django_db

# Inside the recorded agreements and rates (the replay answers for these days).
NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_identity_provider_customer_on_kraken_connects_and_is_polled(
    oidc_settings: Any,
    kraken_settings: Any,  # noqa: F811
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    make_customer: Any,
) -> None:
    dora = make_customer(email="dora@example.com", account_number="A-2222BBBB")
    assert not (Premise.objects.exists() or Contract.objects.exists() or Tariff.objects.exists())
    KrakenReplay(fake_flatpeak.mock)  # one `responses` mock for FlatPeak and Kraken
    fake_flatpeak.mock.add_passthru(oidc_settings.OIDC_ISSUER)  # the real identity provider
    fake_flatpeak.context()

    start = start_federated(browser, browser.open())
    back = come_back(browser, op_log_in(start["Location"], "dora"))
    assert back.status_code == HTTPStatus.SEE_OTHER
    choose = browser.get(back["Location"])
    assert choose.status_code == HTTPStatus.OK
    assert "Unit 3, Example Court" in choose.content.decode()  # a place read from Kraken
    consent = browser.get(
        browser.post(browser.action(choose, "address"), {"premise": "KRP-2000002"})["Location"]
    )
    assert consent.status_code == HTTPStatus.OK
    fake_flatpeak.acknowledge()
    done = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
    assert done.status_code == HTTPStatus.SEE_OTHER
    [body] = [
        json.loads(call.request.body)
        for call in fake_flatpeak.mock.calls
        if call.request.method == "POST" and call.request.url == SESSION_URL
    ]
    assert (body["status"], body["reference_id"]) == ("AUTHORISED", "KRP-2000002")
    assert body["postal_address"]["post_code"] == "ZZ8 8ZZ"
    assert body["contract_term"]["contract_start_date"] == "2026-01-01T00:00:00Z"

    # FlatPeak polls with the credentials it was given: the tariff, from Kraken.
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {body['auth_data']['access_token']}"}
    poll = Client(HTTP_HOST="testserver").get("/api/v1/tariff", secure=True, **bearer)
    assert poll.status_code == HTTPStatus.OK, poll.content
    tariff = poll.json()
    assert tariff["premise"]["reference"] == "KRP-2000002"
    assert tariff["contract_start_date"] == "2026-01-01T00:00:00Z"
    assert tariff["rules"]  # the day and night rates Kraken publishes for the tariff code
    unchanged = Client(HTTP_HOST="testserver").get(
        "/api/v1/tariff", secure=True, HTTP_IF_NONE_MATCH=poll["ETag"], **bearer
    )
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
    # What this server stores: the customer and Kraken's places it may grant (recorded at
    # login, so a grant can name one), no tariff or contract.
    assert set(Premise.objects.values_list("reference", "customer")) == {
        ("KRP-2000001", dora.pk),
        ("KRP-2000002", dora.pk),
    }
    assert not (Contract.objects.exists() or Tariff.objects.exists())
    assert User.objects.get(pk=dora.pk).account_number == "A-2222BBBB"
