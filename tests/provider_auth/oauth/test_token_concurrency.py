"""Two FlatPeak workers refreshing the same token at once: exactly one wins (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from provider_auth.oauth import tokens
from provider_auth.oauth.models import GrantStatus, RefreshToken
from provider_auth.oauth.services import grant_revoke

from .conftest import basic


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_refreshes_of_one_token_yield_exactly_one_success(
    flatpeak: Any, active_tokens: Any, workers: int
) -> None:
    _grant, issued = active_tokens()
    barrier = threading.Barrier(workers)
    results: list[Any] = []
    lock = threading.Lock()

    def refresh() -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(
                "/oauth/token",
                {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
                HTTP_AUTHORIZATION=basic(flatpeak[0].client_id, flatpeak[1]),
                secure=True,
            )
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(r.status_code for r in results)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * (workers - 1)
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code != 200)
    # one rotation happened: the old token is used once, exactly one new refresh token exists
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
    assert RefreshToken.objects.count() == 2


def _refresh(flatpeak: Any, refresh_token: str) -> Any:
    return Client().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic(flatpeak[0].client_id, flatpeak[1]),
        secure=True,
    )


def _blocked_refresh(
    flatpeak: Any, refresh_token: str, *, then: Callable[[RefreshToken], None]
) -> Any:
    """Refresh `refresh_token` in another thread while this thread holds its row lock (as a
    concurrent refresh would); once that request waits on the lock, run `then` on the locked
    row and commit. Returns the other thread's response."""
    results: list[Any] = []

    def request() -> None:
        try:
            results.append(_refresh(flatpeak, refresh_token))
        finally:
            connection.close()

    thread = threading.Thread(target=request)
    with transaction.atomic():
        row = RefreshToken.objects.select_for_update().get(
            token_hash=tokens.secret_hash(refresh_token)
        )
        thread.start()
        _wait_for_a_lock_waiter()
        then(row)
    thread.join(timeout=30)
    [response] = results
    return response


def _wait_for_a_lock_waiter() -> None:
    """Until another session of this database waits on a row lock (pg_stat_activity)."""
    deadline = time.monotonic() + 10
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Statistics views are a snapshot per transaction unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the refresh never waited for the row lock")


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_waited_for_a_concurrent_one_loses_without_revoking_the_grant(
    flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()

    def rotate(row: RefreshToken) -> None:  # the concurrent refresh wins and commits
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])

    response = _blocked_refresh(flatpeak, issued.refresh_token, then=rotate)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE  # a lost race is not reuse


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_waited_for_a_lock_released_unchanged_succeeds(
    flatpeak: Any, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    response = _blocked_refresh(flatpeak, issued.refresh_token, then=lambda row: None)
    assert response.status_code == HTTPStatus.OK, response.content


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_waited_for_a_revocation_is_invalid_grant(
    flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()

    def revoke(row: RefreshToken) -> None:
        grant_revoke(grant=row.grant, reason="customer_revoked")

    response = _blocked_refresh(flatpeak, issued.refresh_token, then=revoke)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"
