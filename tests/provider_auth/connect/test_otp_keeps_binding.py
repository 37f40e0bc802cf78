"""A login with the emailed one-time code keeps the open connect tab bound to this browser."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest

from provider_auth.connect.models import ConnectSession
from tests.provider_auth.connect.conftest import Browser, FakeFlatPeak


@pytest.mark.usefixtures("flatpeak_client")
@pytest.mark.parametrize("second_factor", [False, True], ids=["password", "one-time-code"])
def test_logging_in_over_another_account_keeps_the_flow_bound_to_this_browser(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    make_customer: Any,
    make_premise: Any,
    make_contract: Any,
    mailoutbox: Any,
    second_factor: bool,
) -> None:
    someone_else = make_customer(email="bob@example.com")
    ada = make_customer(email="ada@example.com", requires_email_otp=second_factor)
    make_contract(premise=make_premise(customer=ada))
    browser.client.force_login(someone_else)
    fake_flatpeak.context()
    page = browser.open()
    assert b"bob@example.com" in page.content  # "Continue as …" offered

    response = browser.log_in(page, "ada@example.com")
    assert response.status_code == HTTPStatus.SEE_OTHER
    if second_factor:
        browser.get(response["Location"])
        code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)  # type: ignore[union-attr]
        response = browser.post(response["Location"], {"code": code})
        assert response.status_code == HTTPStatus.SEE_OTHER

    consent = browser.get(response["Location"])
    assert consent.status_code == HTTPStatus.OK, consent.content[:400]
    assert b">Allow</button>" in consent.content
    assert ConnectSession.objects.get().customer == ada
