"""The counters against real Redis (CI sets REDIS_URL): atomic under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from provider_auth.security.ratelimit import rate_limit_hit


@pytest.mark.spec("RFC6819 4.4.1.11")
def test_parallel_hits_from_many_workers_never_exceed_the_limit(redis_cache: None) -> None:
    def hit(_: int) -> Any:
        return rate_limit_hit(
            scope="redis-test", key="198.51.100.1", limit=100, window=60, now=600.0
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(hit, range(200)))
    assert sum(r.allowed for r in results) == 100
    assert sorted(r.count for r in results) == list(range(1, 201))  # no lost increment
