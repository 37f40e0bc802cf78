"""Several FlatPeak workers refreshing the same token at once, or one retrying after a timeout:
within the grace window every one gets a working pair and nothing is revoked (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from authlib.oauth2 import OAuth2Error
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from provider_auth.oauth import tokens
from provider_auth.oauth.bearer import access_token_digest, access_token_validate
from provider_auth.oauth.models import GrantStatus, RefreshToken
from provider_auth.oauth.queries import access_token_lookup
from provider_auth.oauth.services import grant_revoke

from .conftest import FormClient, basic


def _parallel_refreshes(flatpeak: Any, refresh_token: str, workers: int) -> list[Any]:
    """`workers` threads (each its own database connection) refresh one token at once."""
    barrier = threading.Barrier(workers)
    results: list[Any] = []
    lock = threading.Lock()

    def refresh() -> None:
        try:
            barrier.wait(timeout=10)
            response = _refresh(flatpeak, refresh_token)
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == workers
    return results


def _access_works(access_token: str) -> bool:
    """Whether the tariff API would accept `access_token` (its bearer check, without spending
    the grant's polling budget)."""
    try:
        access_token_validate(
            access_token_lookup(access_token),
            digest=access_token_digest(access_token),
            scopes=["tariff:read"],
        )
    except OAuth2Error:
        return False
    return True


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 5, 20])
def test_parallel_refreshes_of_one_token_all_succeed_and_revoke_nothing(
    flatpeak: Any, active_tokens: Any, workers: int
) -> None:
    grant, issued = active_tokens()
    results = _parallel_refreshes(flatpeak, issued.refresh_token, workers)

    assert [r.status_code for r in results] == [HTTPStatus.OK] * workers, [
        r.content for r in results
    ]
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    # every pair is a new one of the same grant, and every one of them works
    bodies = [r.json() for r in results]
    assert len({b["refresh_token"] for b in bodies}) == workers
    for body in bodies:
        assert _access_works(body["access_token"])
    for body in bodies:
        assert _refresh(flatpeak, body["refresh_token"]).status_code == HTTPStatus.OK
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    # the presented token was rotated once; its first use is what the window counts from
    old = RefreshToken.objects.get(token_hash=tokens.secret_hash(issued.refresh_token))
    assert old.used_at is not None and old.revoked_at is None


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
@override_settings(OAUTH_REFRESH_GRACE_SECONDS=0)
@pytest.mark.parametrize("workers", [2, 4])
def test_without_a_grace_window_parallel_refreshes_have_one_winner_and_no_server_error(
    flatpeak: Any, active_tokens: Any, workers: int
) -> None:
    _grant, issued = active_tokens()
    results = _parallel_refreshes(flatpeak, issued.refresh_token, workers)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * (workers - 1)
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code != 200)
    # one rotation happened: the old token is used once, exactly one new refresh token exists
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
    assert RefreshToken.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
def test_a_retry_after_a_timeout_gets_a_working_pair_and_the_winners_keep_working(
    flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()
    winner = _refresh(flatpeak, issued.refresh_token)  # the response FlatPeak never read
    assert winner.status_code == HTTPStatus.OK
    retry = _refresh(flatpeak, issued.refresh_token)  # FlatPeak resends after its timeout
    assert retry.status_code == HTTPStatus.OK, retry.content
    assert retry.json()["refresh_token"] != winner.json()["refresh_token"]
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    for body in (winner.json(), retry.json()):
        assert _access_works(body["access_token"])
    assert _refresh(flatpeak, retry.json()["refresh_token"]).status_code == HTTPStatus.OK
    assert _refresh(flatpeak, winner.json()["refresh_token"]).status_code == HTTPStatus.OK


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
def test_reuse_after_the_grace_window_revokes_the_grant(flatpeak: Any, active_tokens: Any) -> None:
    grant, issued = active_tokens()
    winner = _refresh(flatpeak, issued.refresh_token).json()
    RefreshToken.objects.filter(token_hash=tokens.secret_hash(issued.refresh_token)).update(
        used_at=timezone.now() - dt.timedelta(seconds=settings.OAUTH_REFRESH_GRACE_SECONDS + 1)
    )
    replay = _refresh(flatpeak, issued.refresh_token)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    grant.refresh_from_db()
    assert (grant.status, grant.revoked_reason) == (GrantStatus.REVOKED, "refresh_token_reuse")
    assert not _access_works(winner["access_token"])
    assert _refresh(flatpeak, winner["refresh_token"]).status_code == HTTPStatus.BAD_REQUEST


def _refresh(flatpeak: Any, refresh_token: str) -> Any:
    return FormClient().post(
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
def test_a_refresh_that_waited_for_a_concurrent_one_gets_a_pair_within_the_window(
    flatpeak: Any, active_tokens: Any
) -> None:
    grant, issued = active_tokens()

    def rotate(row: RefreshToken) -> None:  # the concurrent refresh wins and commits
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])

    response = _blocked_refresh(flatpeak, issued.refresh_token, then=rotate)
    assert response.status_code == HTTPStatus.OK, response.content
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


@pytest.mark.postgres
@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.django_db(transaction=True)
@override_settings(OAUTH_REFRESH_GRACE_SECONDS=0)
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
