"""/account/connected-apps/: working grants with purpose, data types, since, until, last used;
History with ended grants; the downloadable record (JSON, CSV) for that customer only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Contract
from provider_auth.consent.services import grants_end_due
from provider_auth.oauth.models import Grant, OAuthClient
from provider_auth.oauth.services import grant_activate, grant_revoke

pytestmark = pytest.mark.django_db

LIST = "/account/connected-apps/"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def _mixed_history(
    issue: Any, contract: Contract, make_contract: Any, make_premise: Any, flatpeak_client: Any
) -> dict[str, Grant]:
    """Four grants of one customer: working (with an expiry), revoked by the customer, expired,
    ended by a move-out at a second premise."""
    customer = contract.premise.customer
    OAuthClient.objects.filter(pk=flatpeak_client[0].pk).update(consent_days=365)
    flatpeak_client[0].refresh_from_db()
    working, _ = issue(display_name="Nova Chargers")
    Grant.objects.filter(pk=working.pk).update(last_used_at=timezone.now())
    revoked, _ = issue(display_name="Heatly Pumps", scope="tariff:read")
    grant_revoke(grant=revoked, reason="customer", actor=customer)
    expired, _ = issue(display_name="Old App")
    Grant.objects.filter(pk=expired.pk).update(
        consent_expires_at=timezone.now() - dt.timedelta(days=1)
    )
    second = make_contract(premise=make_premise(customer=customer))
    moved, _ = issue(display_name="Mover App", premise=second.premise)
    Contract.objects.filter(pk=second.pk).update(end_at=timezone.now() - dt.timedelta(hours=2))
    assert grants_end_due() == 2
    return {"working": working, "revoked": revoked, "expired": expired, "moved": moved}


@pytest.mark.spec("EU 2023/1162 art. 8 overview of permissions")
def test_the_page_shows_working_grants_and_the_history(
    browser: Client,
    issue: Any,
    contract: Contract,
    make_contract: Any,
    make_premise: Any,
    flatpeak_client: Any,
) -> None:
    grants = _mixed_history(issue, contract, make_contract, make_premise, flatpeak_client)
    browser.force_login(contract.premise.customer)
    html = browser.get(LIST, secure=True).content.decode()
    active, history = html.split('id="history"')
    assert "Nova Chargers" in active
    assert "Tariff synchronisation" in active
    assert "The start and end dates of your contract" in active and "Your supply address" in active
    until = grants["working"].consent_expires_at
    assert f'<time datetime="{timezone.localtime(until):%Y-%m-%d}">' in active
    assert f'<time datetime="{timezone.now():%Y-%m-%d}">' in active  # last used, day precision
    assert f"{grants['working'].pk}/revoke/" in active
    for name in ("Heatly Pumps", "Old App", "Mover App"):
        assert name in history and name not in active
    assert "Access was revoked" in history
    assert "The permission expired" in history
    assert "Your supply at this address ended" in history
    assert "record.json" in html and "record.csv" in html


@pytest.mark.spec("EU 2023/1162 art. 8 record of permissions")
def test_the_json_record_after_a_mixed_history(
    browser: Client,
    issue: Any,
    contract: Contract,
    make_contract: Any,
    make_premise: Any,
    flatpeak_client: Any,
) -> None:
    grants = _mixed_history(issue, contract, make_contract, make_premise, flatpeak_client)
    browser.force_login(contract.premise.customer)
    response = browser.get(LIST + "record.json", secure=True)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith('attachment; filename="permissions-')
    record = json.loads(response.content)
    assert record["customer"] == contract.premise.customer.email
    by_id = {p["grant_id"]: p for p in record["permissions"]}
    assert by_id[grants["working"].pk]["end_reason"] is None
    assert by_id[grants["working"].pk]["until"] is not None
    assert by_id[grants["working"].pk]["data_types"] == [
        "address:read",
        "contract:read",
        "tariff:read",
    ]
    assert by_id[grants["revoked"].pk]["end_reason"] == "grant_revoked"
    assert by_id[grants["revoked"].pk]["data_types"] == ["tariff:read"]
    assert by_id[grants["expired"].pk]["end_reason"] == "grant_expired"
    assert by_id[grants["moved"].pk]["end_reason"] == "supply_ended"
    changes = [(c["event"], c["grant_id"], c["reason"], c["by"]) for c in record["changes"]]
    for key in grants:
        assert ("grant.issued", grants[key].pk, "", "system") in changes
    assert ("grant.revoked", grants["revoked"].pk, "grant_revoked", "customer") in changes
    assert ("grant.revoked", grants["expired"].pk, "grant_expired", "system") in changes
    assert ("grant.revoked", grants["moved"].pk, "supply_ended", "system") in changes
    assert [c["at"] for c in record["changes"]] == sorted(c["at"] for c in record["changes"])


def test_the_csv_record_has_one_row_per_change_and_defuses_formulas(
    browser: Client, issue: Any, contract: Contract
) -> None:
    grant, _ = issue(display_name='=HYPERLINK("http://evil.example")', pending=True)
    grant_activate(grant=grant)
    browser.force_login(contract.premise.customer)
    response = browser.get(LIST + "record.csv", secure=True)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "at",
        "event",
        "grant_id",
        "partner",
        "premise",
        "data_types",
        "reason",
        "by",
    ]
    events = [r[1] for r in rows[1:]]
    assert events == ["grant.issued", "grant.activated"]
    assert all(r[3].startswith("'=") for r in rows[1:])


@pytest.mark.spec("ASVS 4.2.1")
def test_the_record_holds_this_customer_s_permissions_only(
    browser: Client, issue: Any, contract: Contract, make_contract: Any
) -> None:
    mine, _ = issue()
    other_contract = make_contract()
    theirs, _ = issue(premise=other_contract.premise)
    browser.force_login(contract.premise.customer)
    record = json.loads(browser.get(LIST + "record.json", secure=True).content)
    assert [p["grant_id"] for p in record["permissions"]] == [mine.pk]
    assert {c["grant_id"] for c in record["changes"]} == {mine.pk}
    assert other_contract.premise.reference not in json.dumps(record)


def test_the_record_needs_a_login(browser: Client) -> None:
    for suffix in ("record.json", "record.csv"):
        response = browser.get(LIST + suffix, secure=True)
        assert response.status_code == HTTPStatus.FOUND
        assert "record" not in response.get("Content-Disposition", "")


def test_the_page_and_its_history_in_german(
    browser: Client, issue: Any, contract: Contract
) -> None:
    grant, _ = issue()
    grant_revoke(grant=grant, reason="customer", actor=grant.customer)
    issue(display_name="Nova Chargers")
    browser.force_login(contract.premise.customer)
    html = browser.get(LIST, secure=True, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Zweck" in html and "Tarifabgleich" in html
    assert "Verlauf" in html and "Der Zugriff wurde widerrufen" in html
    assert "Herunterladen (CSV)" in html
