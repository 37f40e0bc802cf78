"""A double tap on "Allow": two concurrent POSTs, one grant, one submission (PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oauth.models import Grant, GrantStatus
from tests.provider_auth.connect.conftest import (
    DONE_URL,
    SESSION_URL,
    Browser,
    FakeFlatPeak,
    reach_consent,
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_allows_make_one_grant_and_one_submission(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    customer_with_premise: Any,
    settings: Any,
) -> None:
    settings.FLATPEAK_RETRY_DEADLINE = 5  # the slow acknowledgement must fit in the deadline
    consent = reach_consent(browser, fake_flatpeak)
    decide_url = browser.action(consent, "decide")

    def slow_acknowledgement(request: Any) -> tuple[int, dict[str, str], str]:
        time.sleep(0.3)  # keep the first submission in flight while the second tap arrives
        return 200, {}, json.dumps({"redirect_uri": DONE_URL})

    fake_flatpeak.mock.add_callback("POST", SESSION_URL, callback=slow_acknowledgement)

    # Two clients sharing the browser's cookies: the same browser tapping twice.
    taps = []
    for _ in range(2):
        tap = Client(enforce_csrf_checks=True)
        tap.cookies = browser.client.cookies
        taps.append(tap)
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def press(tap: Client) -> None:
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

    threads = [threading.Thread(target=press, args=(tap,)) for tap in taps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert [r.status_code for r in results] == [HTTPStatus.SEE_OTHER] * 2
    # Both taps end at FlatPeak's redirect: the second waited for the first's outcome.
    assert {r["Location"] for r in results} == {DONE_URL}
    assert len(fake_flatpeak.submissions()) == 1
    grant = Grant.objects.get()
    assert grant.status == GrantStatus.ACTIVE
    assert grant.access_tokens.count() == 1
    assert ConnectSession.objects.get().state == SessionState.COMPLETED
