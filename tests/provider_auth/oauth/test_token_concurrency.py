"""Two FlatPeak workers refreshing the same token at once: exactly one wins (PostgreSQL)."""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from provider_auth.oauth.models import RefreshToken

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
