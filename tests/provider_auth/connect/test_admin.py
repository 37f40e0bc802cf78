"""The read-only admin of connect sessions shows decisions, never tokens."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from provider_auth.connect.models import ConnectSession
from tests.provider_auth.connect.conftest import TOKEN, Browser, FakeFlatPeak, allow, reach_consent

pytestmark = pytest.mark.django_db


def test_staff_see_the_decision_but_no_token_or_body(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
    make_customer: Any,
) -> None:
    consent = reach_consent(browser, fake_flatpeak)
    fake_flatpeak.acknowledge({"redirect_uri": "https://connect.flatpeak.com/done"})
    allow(browser, consent)
    admin = Client()
    admin.force_login(make_customer(email="staff@example.com", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/connect/connectsession/", secure=True)
    assert listing.status_code == HTTPStatus.OK
    assert b"Heatly Pumps" in listing.content and b"AUTHORISED" in listing.content

    session = ConnectSession.objects.get()
    detail = admin.get(f"/admin/connect/connectsession/{session.pk}/change/", secure=True)
    assert detail.status_code == HTTPStatus.OK
    body = fake_flatpeak.submitted_bodies()[0]
    for secret in (TOKEN, body["auth_data"]["access_token"], body["auth_data"]["refresh_token"]):
        assert secret.encode() not in listing.content + detail.content
