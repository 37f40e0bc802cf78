"""The tokens FlatPeak receives work at the tariff API only once FlatPeak has acknowledged them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from tests.provider_auth.connect.conftest import (
    SESSION_URL,
    Browser,
    FakeFlatPeak,
    allow,
    reach_consent,
)

pytestmark = pytest.mark.django_db


def poll(access_token: str) -> Any:
    return Client().get(
        "/api/v1/tariff", secure=True, headers={"Authorization": f"Bearer {access_token}"}
    )


def test_pending_tokens_are_refused_until_flatpeak_acknowledges(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
) -> None:
    consent = reach_consent(browser, fake_flatpeak)
    fake_flatpeak.mock.post(SESSION_URL, status=503)
    retry_page = browser.get(allow(browser, consent)["Location"])
    access_token = fake_flatpeak.submitted_bodies()[0]["auth_data"]["access_token"]
    assert poll(access_token).status_code == HTTPStatus.UNAUTHORIZED

    fake_flatpeak.mock.reset()
    fake_flatpeak.acknowledge()
    browser.post(browser.action(retry_page, "retry"))
    response = poll(access_token)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["premise"]["reference"] == "PRM-000123"
