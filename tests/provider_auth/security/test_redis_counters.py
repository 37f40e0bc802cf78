"""The counters against real Redis (CI sets REDIS_URL): atomic under concurrency, exact when the
server lost its scripts or a connection fails."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError

from provider_auth.security.ratelimit import rate_limit_hit
from provider_auth.security.redis_counter import redis_counter_incr


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


def _redis() -> Any:
    backend = caches["default"]
    return backend, backend._cache.get_client(write=True)


def test_a_count_goes_to_a_pooled_connection_and_comes_back_to_the_cache(
    redis_cache: None,
) -> None:
    backend, client = _redis()
    key = backend.make_and_validate_key("direct")
    assert [redis_counter_incr(backend, key=key, timeout=90) for _ in range(3)] == [1, 2, 3]
    assert backend.get("direct") == 3  # the cache's own encoding
    assert 0 < client.ttl(key) <= 90
    # The connection went back to the pool, nothing left unread on it.
    pool = client.connection_pool
    assert not pool._in_use_connections
    assert all(not c.can_read() for c in pool._available_connections)


def test_a_server_that_lost_the_script_loads_it_and_counts_once(redis_cache: None) -> None:
    backend, client = _redis()
    key = backend.make_and_validate_key("flushed")
    assert redis_counter_incr(backend, key=key, timeout=90) == 1
    client.script_flush()  # what a Redis restart does to loaded scripts
    assert redis_counter_incr(backend, key=key, timeout=90) == 2
    assert redis_counter_incr(backend, key=key, timeout=90) == 3


def test_a_connection_that_fails_is_dropped_and_the_count_still_made_once(
    redis_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, client = _redis()
    key = backend.make_and_validate_key("dropped")
    assert redis_counter_incr(backend, key=key, timeout=90) == 1
    pooled = client.connection_pool._available_connections[-1]
    send, failed, dropped = pooled.send_command, [], []
    disconnect = pooled.disconnect

    def send_fails_once(*args: Any, **kwargs: Any) -> None:
        if not failed:
            failed.append(args)
            raise RedisConnectionError("Connection closed by server.")
        send(*args, **kwargs)

    def disconnect_seen(*args: Any, **kwargs: Any) -> None:
        dropped.append(bool(failed))
        disconnect(*args, **kwargs)

    # The next command on that connection fails before reaching the server.
    monkeypatch.setattr(pooled, "send_command", send_fails_once)
    monkeypatch.setattr(pooled, "disconnect", disconnect_seen)
    assert redis_counter_incr(backend, key=key, timeout=90) == 2
    assert failed[0][0] == "EVALSHA"  # the direct path was tried first
    assert dropped[:1] == [True]  # and its connection dropped, not handed back half-used
    assert redis_counter_incr(backend, key=key, timeout=90) == 3
