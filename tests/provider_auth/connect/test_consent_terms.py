"""The consent page states the grant's purpose, each data type, and its end; allowing sends one
mail once FlatPeak acknowledged, and only after the commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient
from tests.provider_auth.connect.conftest import Browser, FakeFlatPeak, allow, reach_consent

pytestmark = pytest.mark.django_db


@pytest.mark.spec("EU 2023/1162 art. 8 scope per data type")
def test_the_consent_page_lists_each_data_type_and_the_purpose(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, customer_with_premise: Any
) -> None:
    html = reach_consent(browser, fake_flatpeak).content.decode()
    assert "Your tariff and its rates for" in html
    assert "The start and end dates of your contract" in html
    assert "Your supply address" in html
    assert "Tariff synchronisation" in html
    assert "Until you revoke access" in html
    assert "when your supply at this address ends" in html


@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
def test_the_consent_page_states_the_expiry_date_when_the_client_has_one(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, customer_with_premise: Any
) -> None:
    OAuthClient.objects.filter(pk=flatpeak_client.pk).update(consent_days=365)
    html = reach_consent(browser, fake_flatpeak).content.decode()
    expected = timezone.localtime(timezone.now() + dt.timedelta(days=365))
    assert f"Until {expected:%-d %B %Y} at the latest" in html
    assert "Until you revoke access" not in html


def test_the_grant_carries_the_terms_the_page_stated(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, customer_with_premise: Any
) -> None:
    OAuthClient.objects.filter(pk=flatpeak_client.pk).update(consent_days=30)
    consent = reach_consent(browser, fake_flatpeak)
    fake_flatpeak.acknowledge()
    allow(browser, consent)
    grant = Grant.objects.get()
    assert grant.status == GrantStatus.ACTIVE
    assert grant.purpose == "tariff_sync"
    assert grant.scope == "address:read contract:read tariff:read"
    assert grant.consent_expires_at is not None
    assert grant.consent_expires_at > timezone.now() + dt.timedelta(days=29)


@pytest.mark.spec("EU 2023/1162 art. 8 grant and revoke")
def test_allowing_mails_the_customer_once_the_grant_works(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    consent = reach_consent(browser, fake_flatpeak)
    fake_flatpeak.acknowledge()
    with django_capture_on_commit_callbacks(execute=True):
        allow(browser, consent)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    customer, _premise = customer_with_premise
    assert message.to == [customer.email]
    assert "can now read your tariff" in message.subject
    assert "/account/connected-apps/" in message.body
    assert "Your supply address" in message.body
