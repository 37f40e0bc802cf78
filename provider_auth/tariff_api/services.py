"""Per-request bookkeeping of the tariff API, held in the shared cache (never the database).

Polling limit: a fixed one-hour window per grant, counted with atomic cache increments, so it
holds across gunicorn workers and hosts when the cache is Redis. Every authenticated request
counts, 304s included: a 304 still costs a token lookup.

`Grant.last_used_at` is deliberately *not* written here: a write per poll would break the
two-query budget. The token endpoint records it on every refresh instead, and access tokens
live an hour, so it is accurate to the access-token lifetime.
"""

from __future__ import annotations

import time

from django.conf import settings

from provider_auth.security.ratelimit import counter_incr

WINDOW_SECONDS = 3600


def grant_poll_count(*, grant_id: int, now: float | None = None) -> tuple[bool, int]:
    """Count one request; returns (allowed, seconds until the window resets).

    One cache round trip on Redis (`counter_incr`): this runs on every poll, 304s included.
    """
    limit = settings.TARIFF_POLL_LIMIT_PER_HOUR
    if not settings.RATE_LIMIT_ENABLED or limit <= 0:
        return True, 0
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = counter_incr(key=f"tariff-poll:{grant_id}:{window}", timeout=WINDOW_SECONDS + 60)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
    return count <= limit, retry_after
