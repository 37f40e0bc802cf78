"""Warm a server process before it takes requests, so no request pays for a cold start.

Django builds much of what a request needs on first use: the URL resolver imports every view
module (and through them Authlib, the admin, redis-py's client), translation catalogs load on
the first gettext, and the database and Redis connections open inside the first request that
needs them. In a freshly forked gunicorn worker that first request cost ~0.2 s of CPU on a quiet
machine and over 1 s under load — once per worker start, so on every recycling
(`max_requests`), which put it in the poll path's p99. Gunicorn's config calls
`process_warm` in the master before it forks (with `preload_app`: imported once, shared
copy-on-write and frozen out of the workers' garbage collections) and again in each worker (a
no-op then), and `connections_warm` in each worker before it accepts a request.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_warmed = False


def _redis_cache_client(backend: Any) -> Any:
    # RedisCache's client factory (built on first use; the shared counters use it too).
    return backend._cache


def process_warm() -> bool:
    """Import and build what every request shares, once per process. Opens no connection, so
    it is safe before a fork. Returns False when Django is not set up (nothing to warm yet)."""
    global _warmed
    from django.apps import apps

    if not apps.ready:
        return False
    if _warmed:
        return True
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache
    from django.urls import get_resolver
    from django.utils import translation

    # The URL configuration, every view module it names, and the reverse lookup tables.
    get_resolver().reverse_dict  # noqa: B018
    # The cache client (with Redis: imports redis-py; its connection pools open later, per
    # process, on first use).
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        _redis_cache_client(backend)
    # Translation catalogs of every offered language (activating one loads and merges them).
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass
    _warmed = True
    return True


def connections_warm() -> None:
    """Open this process's persistent database connections and its Redis connection, so the
    first request does not wait for them. A failure is logged, not raised: a worker must still
    start while PostgreSQL or Redis is away (its requests then fail as they would anyway)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache
    from django.db import connections

    for connection in connections.all():
        if connection.settings_dict.get("CONN_MAX_AGE") == 0:
            continue  # closed again when the first request starts: nothing to gain
        try:
            connection.ensure_connection()
        except Exception:
            logger.warning("warm-up: database %r unreachable", connection.alias, exc_info=True)
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        try:
            # The write pool: the one the shared counters (rate and poll limits) use.
            _redis_cache_client(backend).get_client(write=True).ping()
        except Exception:
            logger.warning("warm-up: Redis unreachable", exc_info=True)
