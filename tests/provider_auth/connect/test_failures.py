"""FlatPeak failures on both calls, retries, replays, other browsers and expiry."""

from __future__ import annotations

import datetime as dt
import json
from http import HTTPStatus
from typing import Any

import pytest
import requests
from django.utils import timezone

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.connect.services import connect_pending_grants_expire
from provider_auth.oauth.models import Grant, GrantStatus
from tests.provider_auth.connect.conftest import (
    DONE_URL,
    SESSION_URL,
    TOKEN,
    Browser,
    FakeFlatPeak,
    allow,
    context_body,
    reach_consent,
)

pytestmark = pytest.mark.django_db

TRANSIENT = [
    ("timeout", requests.exceptions.ReadTimeout("slow")),
    ("connection refused", requests.exceptions.ConnectionError("refused")),
    ("500", 500),
    ("502", 502),
    ("429", 429),
    ("non-JSON", "<html>Bad gateway</html>"),
]


def add_failure(fake: FakeFlatPeak, method: str, failure: Any) -> None:
    if isinstance(failure, Exception):
        fake.mock.add(method, SESSION_URL, body=failure)
    elif isinstance(failure, int):
        fake.mock.add(
            method, SESSION_URL, status=failure, json={"message": "<b>upstream detail</b>"}
        )
    else:
        fake.mock.add(method, SESSION_URL, status=200, body=failure, content_type="text/html")


def allow_while_submission_fails(
    browser: Browser, fake: FakeFlatPeak, consent: Any, failure: Any
) -> Any:
    """FlatPeak answers the submission with `failure`; allow, and follow to the page we show."""
    add_failure(fake, "POST", failure)
    return browser.get(allow(browser, consent)["Location"])


def assert_no_upstream_text(response: Any) -> None:
    assert b"upstream detail" not in response.content
    assert b"Traceback" not in response.content
    assert b"Bad gateway" not in response.content


@pytest.mark.usefixtures("flatpeak_client")
class TestSessionContextFailures:
    @pytest.mark.parametrize(("name", "failure"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
    def test_a_transient_failure_shows_try_again_with_503(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, name: str, failure: Any
    ) -> None:
        add_failure(fake_flatpeak, "GET", failure)
        response = browser.open()
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert b"Try again" in response.content
        assert_no_upstream_text(response)
        assert not ConnectSession.objects.exists()

    def test_try_again_after_a_transient_failure_continues_the_flow(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak
    ) -> None:
        add_failure(fake_flatpeak, "GET", 503)
        assert browser.open().status_code == HTTPStatus.SERVICE_UNAVAILABLE
        fake_flatpeak.mock.reset()
        fake_flatpeak.context()
        assert b"Log in" in browser.open().content

    @pytest.mark.parametrize("status", [401, 403])
    def test_rejected_credentials_show_a_generic_unavailable_page(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, status: int, caplog: Any
    ) -> None:
        add_failure(fake_flatpeak, "GET", status)
        response = browser.open()
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert b"temporarily unavailable" in response.content
        assert_no_upstream_text(response)
        assert "FLATPEAK_API_KEY" in caplog.text  # the operator is told what to check

    @pytest.mark.parametrize("status", [404, 410])
    def test_an_unknown_or_expired_token_says_the_link_has_expired(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, status: int
    ) -> None:
        add_failure(fake_flatpeak, "GET", status)
        response = browser.open()
        assert response.status_code == HTTPStatus.GONE
        assert b"This link has expired" in response.content
        assert b"start again" in response.content

    def test_a_context_without_display_name_is_an_error_page(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak
    ) -> None:
        body = context_body()
        del body["account"]["display_name"]
        fake_flatpeak.context(body)
        response = browser.open()
        assert response.status_code == HTTPStatus.BAD_GATEWAY
        assert not ConnectSession.objects.exists()


@pytest.mark.usefixtures("flatpeak_client")
class TestSubmissionFailures:
    @pytest.mark.parametrize(("name", "failure"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
    def test_a_transient_failure_keeps_the_decision_and_offers_try_again(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, name: str, failure: Any
    ) -> None:
        add_failure(fake_flatpeak, "POST", failure)
        response = allow(browser, consent)
        assert response.status_code == HTTPStatus.SEE_OTHER
        page = browser.get(response["Location"])
        assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert b"Try again" in page.content
        assert b"Cancel" in page.content
        assert_no_upstream_text(page)
        session = ConnectSession.objects.get()
        assert session.state == SessionState.DECIDED
        assert session.payload_encrypted and TOKEN not in session.payload_encrypted
        assert Grant.objects.get().status == GrantStatus.PENDING

    @pytest.mark.parametrize("status", [401, 403])
    def test_rejected_credentials_on_submission_keep_the_decision_for_a_retry(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, status: int
    ) -> None:
        page = allow_while_submission_fails(browser, fake_flatpeak, consent, status)
        assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert Grant.objects.get().status == GrantStatus.PENDING

    def test_try_again_resends_the_identical_body_and_key(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        retry_page = allow_while_submission_fails(browser, fake_flatpeak, consent, 503)
        failed_calls = len(fake_flatpeak.submissions())
        fake_flatpeak.acknowledge()
        response = browser.post(browser.action(retry_page, "retry"))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == DONE_URL
        requests_sent = fake_flatpeak.submissions()
        assert len(requests_sent) == failed_calls + 1
        first, last = requests_sent[0], requests_sent[-1]
        assert json.loads(first.body) == json.loads(last.body)
        assert first.headers["Idempotency-Key"] == last.headers["Idempotency-Key"]
        assert Grant.objects.get().status == GrantStatus.ACTIVE
        session = ConnectSession.objects.get()
        assert session.state == SessionState.COMPLETED and session.payload_encrypted == ""

    def test_cancel_while_flatpeak_is_unreachable_revokes_the_pending_grant(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        retry_page = allow_while_submission_fails(browser, fake_flatpeak, consent, 500)
        sent = len(fake_flatpeak.submissions())
        response = browser.post(browser.action(retry_page, "cancel"))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == f"https://connect.flatpeak.com/continue?fp_cot={TOKEN}"
        assert len(fake_flatpeak.submissions()) == sent
        assert Grant.objects.get().status == GrantStatus.REVOKED
        assert ConnectSession.objects.get().payload_encrypted == ""

    @pytest.mark.parametrize("status", [400, 409, 422])
    def test_a_permanent_rejection_revokes_the_pending_grant(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, status: int
    ) -> None:
        page = allow_while_submission_fails(browser, fake_flatpeak, consent, status)
        assert page.status_code == HTTPStatus.CONFLICT
        assert b"could not complete the connection" in page.content
        assert_no_upstream_text(page)
        grant = Grant.objects.get()
        assert grant.status == GrantStatus.REVOKED
        assert not grant.access_tokens.filter(revoked_at__isnull=True).exists()
        assert ConnectSession.objects.get().payload_encrypted == ""

    @pytest.mark.parametrize("status", [404, 410])
    def test_an_expired_token_on_submission_revokes_and_says_expired(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, status: int
    ) -> None:
        page = allow_while_submission_fails(browser, fake_flatpeak, consent, status)
        assert page.status_code == HTTPStatus.GONE
        assert Grant.objects.get().status == GrantStatus.REVOKED

    @pytest.mark.parametrize(("name", "failure"), TRANSIENT[:3], ids=[t[0] for t in TRANSIENT[:3]])
    def test_a_transient_failure_of_a_declined_submission_also_offers_try_again(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, name: str, failure: Any
    ) -> None:
        add_failure(fake_flatpeak, "POST", failure)
        response = browser.post(browser.action(consent, "decide"), {"decision": "deny"})
        page = browser.get(response["Location"])
        assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        fake_flatpeak.acknowledge()
        assert browser.post(browser.action(page, "retry"))["Location"] == DONE_URL


class TestReplayAndOtherBrowsers:
    def complete(self, browser: Browser, fake_flatpeak: FakeFlatPeak) -> None:
        consent = reach_consent(browser, fake_flatpeak)
        fake_flatpeak.acknowledge()
        assert allow(browser, consent)["Location"] == DONE_URL

    def test_presenting_the_token_again_after_completion_never_submits_twice(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        flatpeak_client: Any,
        customer_with_premise: Any,
    ) -> None:
        self.complete(browser, fake_flatpeak)
        again = browser.get("/flatpeak/auth", connect_token=TOKEN)
        assert again.status_code == HTTPStatus.OK
        assert b"already finished" in again.content
        assert b'href="https://connect.flatpeak.com/done?session=1"' in again.content
        assert len(fake_flatpeak.submissions()) == 1
        assert fake_flatpeak.context_calls() == 1
        assert Grant.objects.count() == 1

    def test_posting_allow_again_after_completion_changes_nothing(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.acknowledge()
        allow(browser, consent)
        second = allow(browser, consent)
        assert second.status_code == HTTPStatus.OK
        assert b"already finished" in second.content
        assert len(fake_flatpeak.submissions()) == 1
        assert Grant.objects.count() == 1

    def test_another_browser_with_the_same_token_sees_opened_elsewhere(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        step_url = browser.step_url
        intruder = Browser()
        response = intruder.get("/flatpeak/auth", connect_token=TOKEN)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert b"opened in another browser" in response.content
        assert b"1-3 Strand" not in response.content and b"ada@" not in response.content
        direct = intruder.get(step_url)
        assert direct.status_code == HTTPStatus.FORBIDDEN
        assert b"1-3 Strand" not in direct.content
        # The first browser carries on unaffected.
        fake_flatpeak.acknowledge()
        assert allow(browser, consent)["Location"] == DONE_URL

    def test_another_browser_cannot_post_a_decision(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer_with_premise: Any,
        consent: Any,
        make_customer: Any,
    ) -> None:
        intruder = Browser()
        intruder.client.force_login(customer_with_premise[0])
        intruder.get("/flatpeak/auth", connect_token=TOKEN)  # sets its CSRF cookie
        response = intruder.post(browser.action(consent, "decide"), {"decision": "allow"})
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert not Grant.objects.exists()
        assert fake_flatpeak.submissions() == []

    def test_an_unknown_session_id_is_a_clear_error(self, browser: Browser) -> None:
        response = browser.get("/flatpeak/auth/s/not-a-session/")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert b"This link is not valid" in response.content


@pytest.mark.usefixtures("flatpeak_client")
class TestExpiry:
    def test_an_idle_session_expires(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, settings: Any
    ) -> None:
        ConnectSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=31))
        response = allow(browser, consent)
        assert response.status_code == HTTPStatus.SEE_OTHER
        page = browser.get(response["Location"])
        assert page.status_code == HTTPStatus.GONE
        assert b"This link has expired" in page.content
        assert b"Cancel" in page.content
        assert not Grant.objects.exists()
        assert fake_flatpeak.submissions() == []
        assert ConnectSession.objects.get().state == SessionState.EXPIRED

    def test_the_idle_limit_is_a_setting(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer_with_premise: Any,
        settings: Any,
    ) -> None:
        settings.CONNECT_SESSION_IDLE_MINUTES = 120
        consent = reach_consent(browser, fake_flatpeak)
        ConnectSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=31))
        fake_flatpeak.acknowledge()
        assert allow(browser, consent)["Location"] == DONE_URL

    def test_cancel_on_an_expired_session_returns_to_the_app_without_a_submission(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        ConnectSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(hours=2))
        expired = browser.get(browser.step_url)
        response = browser.post(browser.action(expired, "cancel"))
        assert response["Location"] == f"https://connect.flatpeak.com/continue?fp_cot={TOKEN}"
        assert fake_flatpeak.submissions() == []
        del consent

    def test_pending_grants_never_acknowledged_are_revoked(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        add_failure(fake_flatpeak, "POST", 503)
        allow(browser, consent)
        grant = Grant.objects.get()
        assert grant.status == GrantStatus.PENDING
        assert connect_pending_grants_expire(now=timezone.now()) == 0
        later = timezone.now() + dt.timedelta(minutes=61)
        assert connect_pending_grants_expire(now=later) == 1
        grant.refresh_from_db()
        assert grant.status == GrantStatus.REVOKED
        assert grant.revoked_reason == "pending_expired"
        session = ConnectSession.objects.get()
        assert session.state == SessionState.FAILED and session.payload_encrypted == ""
        assert connect_pending_grants_expire(now=later) == 0
