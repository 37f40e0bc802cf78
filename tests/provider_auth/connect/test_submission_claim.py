"""The submission is claimed by compare-and-set and FlatPeak is called with no transaction open."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http import HTTPStatus
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from provider_auth.connect import submission
from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oauth.models import Grant, GrantStatus
from tests.provider_auth.connect.conftest import (
    DONE_URL,
    SESSION_URL,
    Browser,
    FakeFlatPeak,
    allow,
    reach_consent,
)


def _decided(browser: Browser, fake_flatpeak: FakeFlatPeak) -> tuple[str, ConnectSession]:
    """Consent reached; returns the decide URL and the (still OPEN) session."""
    consent = reach_consent(browser, fake_flatpeak)
    return browser.action(consent, "decide"), ConnectSession.objects.get()


@pytest.mark.django_db(transaction=True)
def test_flatpeak_is_called_with_no_transaction_open(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, customer_with_premise: Any
) -> None:
    consent = reach_consent(browser, fake_flatpeak)
    seen: dict[str, Any] = {}

    def acknowledge(request: Any) -> tuple[int, dict[str, str], str]:
        # Runs inside our FlatPeak call, in the request's thread.
        seen["in_atomic_block"] = connection.in_atomic_block
        seen["state"] = ConnectSession.objects.values_list("state", flat=True).get()
        return 200, {}, json.dumps({"redirect_uri": DONE_URL})

    fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=acknowledge)
    assert allow(browser, consent)["Location"] == DONE_URL
    assert seen == {"in_atomic_block": False, "state": SessionState.SUBMITTING}
    session = ConnectSession.objects.get()
    assert session.state == SessionState.COMPLETED and session.submission_attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_session_row_is_not_locked_during_the_flatpeak_call(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
) -> None:
    consent = reach_consent(browser, fake_flatpeak)
    outcome: dict[str, Any] = {}

    def try_lock() -> None:
        try:
            with transaction.atomic():
                ConnectSession.objects.select_for_update(nowait=True).get()
            outcome["locked"] = False
        except DatabaseError:
            outcome["locked"] = True
        finally:
            connection.close()

    def acknowledge(request: Any) -> tuple[int, dict[str, str], str]:
        other = threading.Thread(target=try_lock)  # another connection, as another worker
        other.start()
        other.join(timeout=10)
        return 200, {}, json.dumps({"redirect_uri": DONE_URL})

    fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=acknowledge)
    assert allow(browser, consent)["Location"] == DONE_URL
    assert outcome == {"locked": False}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_allows_submit_once(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
    settings: Any,
) -> None:
    settings.FLATPEAK_RETRY_DEADLINE = 5
    decide_url, _session = _decided(browser, fake_flatpeak)

    def slow_acknowledgement(request: Any) -> tuple[int, dict[str, str], str]:
        time.sleep(0.3)
        return 200, {}, json.dumps({"redirect_uri": DONE_URL})

    fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=slow_acknowledgement)
    barrier = threading.Barrier(5)
    results: list[Any] = []
    errors: list[BaseException] = []

    def press() -> None:
        tap = Client(enforce_csrf_checks=True)
        tap.cookies = browser.client.cookies
        try:
            barrier.wait()
            results.append(
                tap.post(
                    decide_url,
                    {"csrfmiddlewaretoken": browser.csrf(), "decision": "allow"},
                    secure=True,
                    headers={"Origin": "https://testserver"},
                )
            )
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(r.status_code for r in results) == [HTTPStatus.SEE_OTHER] * 5
    assert {r["Location"] for r in results} == {DONE_URL}
    assert len(fake_flatpeak.submissions()) == 1
    assert Grant.objects.get().status == GrantStatus.ACTIVE
    session = ConnectSession.objects.get()
    assert session.state == SessionState.COMPLETED and session.submission_attempts == 1


@pytest.mark.django_db
class TestClaim:
    def test_only_one_claim_succeeds(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=lambda r: (503, {}, "{}"))
        allow(browser, consent)
        session = ConnectSession.objects.get()
        assert submission.connect_session_submission_claim(session=session) is True
        assert submission.connect_session_submission_claim(session=session) is False
        session.refresh_from_db()
        assert session.state == SessionState.SUBMITTING

    def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_call_deadline(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=lambda r: (503, {}, "{}"))
        allow(browser, consent)
        session = ConnectSession.objects.get()
        assert submission.connect_session_submission_claim(session=session)
        ConnectSession.objects.filter(pk=session.pk).update(
            submission_started_at=timezone.now() - dt.timedelta(minutes=5)
        )
        fake_flatpeak.mock.replace("POST", SESSION_URL, json={"redirect_uri": DONE_URL})
        result = submission.connect_session_submit(session=session)
        assert result.status == "completed" and result.redirect_target == DONE_URL
        keys = {r.headers["Idempotency-Key"] for r in fake_flatpeak.submissions()}
        assert len(keys) == 1  # the resend is the same submission to FlatPeak

    def test_cancel_while_the_submission_is_in_flight_changes_nothing(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=lambda r: (503, {}, "{}"))
        retry_page = browser.get(allow(browser, consent)["Location"])
        session = ConnectSession.objects.get()
        assert submission.connect_session_submission_claim(session=session)
        response = browser.post(browser.action(retry_page, "cancel"))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == browser.step_url
        session.refresh_from_db()
        assert session.state == SessionState.SUBMITTING
        assert Grant.objects.get().status == GrantStatus.PENDING
