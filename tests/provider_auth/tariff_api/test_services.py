"""The per-grant polling limit: exact across workers, one window per hour, on Redis and locmem."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import caches

from provider_auth.security.ratelimit import counter_incr
from provider_auth.tariff_api.services import WINDOW_SECONDS, grant_poll_count


def test_the_limit_holds_per_grant_and_window(settings: Any) -> None:
    settings.TARIFF_POLL_LIMIT_PER_HOUR = 2
    now = 10 * WINDOW_SECONDS + 5.0
    assert [grant_poll_count(grant_id=1, now=now)[0] for _ in range(3)] == [True, True, False]
    assert grant_poll_count(grant_id=2, now=now) == (True, WINDOW_SECONDS - 5)
    # The next hour starts afresh.
    assert grant_poll_count(grant_id=1, now=now + WINDOW_SECONDS) == (True, WINDOW_SECONDS - 5)


@pytest.mark.spec("RFC6819 4.4.1.11")
def test_parallel_polls_from_many_workers_are_counted_exactly_on_redis(
    redis_cache: None, settings: Any
) -> None:
    settings.TARIFF_POLL_LIMIT_PER_HOUR = 100

    def poll(_: int) -> bool:
        return grant_poll_count(grant_id=7, now=3600.0 * 20)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(poll, range(200)))
    assert sum(results) == 100


def test_a_redis_counter_expires_and_reads_back_through_the_cache(redis_cache: None) -> None:
    assert [counter_incr(key="k", timeout=120) for _ in range(3)] == [1, 2, 3]
    backend = caches["default"]
    assert backend.get("k") == 3  # same encoding as cache.add/incr
    ttl = backend._cache.get_client(write=True).ttl(backend.make_and_validate_key("k"))
    assert 0 < ttl <= 120
