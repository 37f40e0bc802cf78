from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from provider_auth.audit.models import AuditEvent
from provider_auth.oauth.models import AccessToken, GrantStatus, RefreshToken
from provider_auth.oauth.services import grant_issue

LIST = "/account/connected-apps/"


@pytest.fixture
def connected(make_customer: Any, make_premise: Any, make_oauth_client: Any) -> Any:
    customer = make_customer()
    premise = make_premise(customer=customer, address_line1="1-3 Strand")
    client_obj, _ = make_oauth_client()
    grant, issued = grant_issue(
        customer=customer,
        premise=premise,
        client=client_obj,
        directions=["IMPORT"],
        display_name="Acme <b>Heat</b> Pumps",
    )
    return customer, grant, issued


def test_the_customer_sees_each_active_grant_with_name_address_and_sharing(
    client: Any, connected: Any
) -> None:
    customer, grant, _ = connected
    client.force_login(customer)
    response = client.get(LIST)
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Acme &lt;b&gt;Heat&lt;/b&gt; Pumps" in html  # FlatPeak's text, escaped
    assert "1-3 Strand" in html
    assert "electricity tariff" in html
    assert "Not used yet" in html
    assert "no-store" in response["Cache-Control"]


def test_other_customers_grants_are_not_shown_nor_revocable(
    client: Any, connected: Any, make_customer: Any
) -> None:
    _, grant, _ = connected
    other = make_customer()
    client.force_login(other)
    assert "Acme" not in client.get(LIST).content.decode()
    assert client.get(f"{LIST}{grant.pk}/revoke/").status_code == HTTPStatus.NOT_FOUND
    client.post(f"{LIST}{grant.pk}/revoke/")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


@pytest.mark.spec("RFC6819 5.2.2.4")
@pytest.mark.spec("RFC7009 2.1")
def test_revoking_asks_for_confirmation_then_kills_every_token_at_once(
    client: Any, connected: Any
) -> None:
    customer, grant, issued = connected
    client.force_login(customer)
    confirm = client.get(f"{LIST}{grant.pk}/revoke/")
    assert confirm.status_code == HTTPStatus.OK
    assert "Yes, revoke access" in confirm.content.decode()
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE  # GET changes nothing
    response = client.post(f"{LIST}{grant.pk}/revoke/")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == LIST + "?revoked=1"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED and grant.revoked_reason == "customer"
    assert not AccessToken.objects.filter(grant=grant, revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(grant=grant, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(event="grant.revoked")
    assert event.actor == customer and event.customer == customer
    page = client.get(LIST).content.decode()
    # No longer among the connected apps (no Revoke control); listed under History instead.
    assert f"{grant.pk}/revoke/" not in page
    assert "History" in page and "Access was revoked" in page


def test_a_revoked_access_token_no_longer_reads_the_tariff(client: Any, connected: Any) -> None:
    from django.test import Client

    customer, grant, issued = connected
    api = Client()
    before = api.get(
        "/api/v1/tariff", HTTP_AUTHORIZATION=f"Bearer {issued.access_token}", secure=True
    )
    client.force_login(customer)
    client.post(f"{LIST}{grant.pk}/revoke/")
    after = api.get(
        "/api/v1/tariff", HTTP_AUTHORIZATION=f"Bearer {issued.access_token}", secure=True
    )
    assert after.status_code == HTTPStatus.UNAUTHORIZED
    assert before.status_code != HTTPStatus.UNAUTHORIZED


def test_revoking_twice_is_harmless(client: Any, connected: Any) -> None:
    customer, grant, _ = connected
    client.force_login(customer)
    assert client.post(f"{LIST}{grant.pk}/revoke/").status_code == HTTPStatus.SEE_OTHER
    assert client.post(f"{LIST}{grant.pk}/revoke/").status_code == HTTPStatus.SEE_OTHER
    assert AuditEvent.objects.filter(event="grant.revoked").count() == 1


def test_the_page_needs_a_login(client: Any, db: None) -> None:
    response = client.get(LIST)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/account/login/")


def test_revoking_needs_a_csrf_token(connected: Any) -> None:
    from django.test import Client

    customer, grant, _ = connected
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer)
    response = browser.post(f"{LIST}{grant.pk}/revoke/", secure=True)
    assert response.status_code == HTTPStatus.FORBIDDEN
