"""The step page only reads: every change of a connect flow is a POST (or the start step).

A reload, a link prefetch or a second tab must not move the flow: the idle clock, the chosen
premise and an OAuth client's code change only when the customer submits a form.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provider_auth.connect.models import ConnectSession, Outcome, SessionState
from provider_auth.connect.services import connect_session_decide
from provider_auth.oauth.models import AuthorizationCode, Grant
from tests.provider_auth.connect.conftest import DONE_URL, TOKEN, Browser, FakeFlatPeak, allow
from tests.provider_auth.connect.test_oauth_authorize import REDIRECT_URI, query

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _get_writing_nothing(browser: Browser, url: str) -> Any:
    """GET `url`; fail if it wrote to any table but the browser's Django session."""
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "django_session" not in q["sql"]
    ]
    assert writes == [], writes
    return response


@pytest.mark.usefixtures("flatpeak_client")
def test_the_login_consent_and_retry_pages_write_nothing(
    browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
) -> None:
    fake_flatpeak.context()
    browser.step_url = browser.get("/flatpeak/auth", connect_token=TOKEN)["Location"]
    login_page = _get_writing_nothing(browser, browser.step_url)
    assert b'name="password"' in login_page.content
    logged_in = browser.log_in(login_page, "ada@example.com")
    consent = _get_writing_nothing(browser, logged_in["Location"])
    assert b">Allow</button>" in consent.content
    _get_writing_nothing(browser, browser.step_url)  # a reload
    fake_flatpeak.acknowledge(status=503)
    retry = _get_writing_nothing(browser, allow(browser, consent)["Location"])
    assert retry.status_code == HTTPStatus.SERVICE_UNAVAILABLE


@pytest.mark.usefixtures("flatpeak_client")
def test_the_address_choice_writes_nothing(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    customer: Any,
    make_premise: Any,
    make_contract: Any,
) -> None:
    make_contract(premise=make_premise(customer=customer, reference="PRM-000001"))
    make_contract(premise=make_premise(customer=customer, reference="PRM-000002"))
    fake_flatpeak.context()
    login_page = browser.open()
    choose = _get_writing_nothing(
        browser, browser.log_in(login_page, "ada@example.com")["Location"]
    )
    assert b'type="radio"' in choose.content
    assert ConnectSession.objects.get().premise is None


@pytest.mark.usefixtures("flatpeak_client")
def test_a_page_shows_an_idle_session_as_expired_and_the_next_post_records_it(
    browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
) -> None:
    ConnectSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=31))
    page = _get_writing_nothing(browser, browser.step_url)
    assert page.status_code == HTTPStatus.GONE
    assert b"This link has expired" in page.content
    assert ConnectSession.objects.get().state == SessionState.OPEN
    fake_flatpeak.acknowledge()
    response = browser.post(browser.action(page, "cancel"))
    assert response["Location"] == f"https://connect.flatpeak.com/continue?fp_cot={TOKEN}"
    assert response["Location"] != DONE_URL  # given up without a submission
    assert fake_flatpeak.submissions() == []
    del consent


def test_an_oauth_flow_left_decided_is_completed_by_a_post_not_by_the_page(
    browser: Browser, make_oauth_client: Any, customer_with_premise: Any
) -> None:
    make_oauth_client(client_id="partner", name="Partner App", redirect_uris=[REDIRECT_URI])
    browser.step_url = browser.get("/oauth/authorize", **query())["Location"]
    login_page = browser.get(browser.step_url)
    consent = browser.get(browser.log_in(login_page, "ada@example.com")["Location"])
    assert b">Allow</button>" in consent.content
    # The request that decided died before it could redirect the browser to the client.
    connect_session_decide(
        session=ConnectSession.objects.get(),
        outcome=Outcome.AUTHORISED,
        reason="",
        ip="203.0.113.9",
        user_agent="HeatlyApp/2.1 WebView",
    )
    page = _get_writing_nothing(browser, browser.step_url)
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert not AuthorizationCode.objects.exists() and not Grant.objects.exists()
    response = browser.post(browser.action(page, "retry"))
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"].startswith(REDIRECT_URI)
    assert "code" in parse_qs(urlsplit(response["Location"]).query)
    assert AuthorizationCode.objects.count() == 1
