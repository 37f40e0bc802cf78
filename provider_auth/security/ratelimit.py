"""Request rate limits in the shared cache.

Threat: brute force and resource exhaustion against endpoints that hand out or check
credentials (`/oauth/*`, the authentication URI). A fixed-window counter per (scope, key) lives
in Django's cache — Redis when REDIS_URL is set, so every worker and instance shares it;
each hit is one atomic INCR (+ EXPIRE on creation) there (`counter_incr`). Over the limit: 429 with Retry-After, as a
FlatPeak-style JSON error object for APIs or a friendly page for browsers.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from provider_auth.security.network import client_ip
from provider_auth.security.redis_counter import redis_counter_incr

KeyFunc = Callable[[HttpRequest], "str | None"]
Limit = int | Callable[[], int]


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends


def _resolve(limit: Limit) -> int:
    return limit() if callable(limit) else int(limit)


def rate_limit_hit(
    *, scope: str, key: str, limit: int, window: int, now: float | None = None
) -> RateLimitResult:
    """Count one request for (scope, key) in the current window and say whether it may pass."""
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    retry_after = max(1, int(window_start + window - now + 0.999))
    # Hash the key: it may hold a client id or an address; cache keys must be short and safe.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    cache_key = f"rl:{scope}:{window}:{window_start}:{digest}"
    # One atomic round trip on Redis (`counter_incr`); the extra second of life covers clock
    # skew between workers.
    count = counter_incr(key=cache_key, timeout=window + 1)
    return RateLimitResult(
        allowed=count <= limit, count=count, limit=limit, retry_after=retry_after
    )


def counter_incr(*, key: str, timeout: int) -> int:
    """Add one to the shared counter `key`, creating it with `timeout` seconds to live, and
    return the new count.

    Same semantics as `cache.add(key, 0)` + `cache.incr(key)`, but on Redis in one round trip
    (`redis_counter`) where Django's RedisCache needs three (SET NX, then EXISTS and INCR). The
    count stays exact across workers and hosts. Other cache backends (the in-memory one of
    development and tests) take the portable path.
    """
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return redis_counter_incr(backend, key=backend.make_and_validate_key(key), timeout=timeout)
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.set(key, 1, timeout=timeout)
        return 1


def rate_limit_peek(*, scope: str, key: str, window: int, now: float | None = None) -> int:
    """How many requests (scope, key) has made in the current window, without counting one."""
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return int(cache.get(f"rl:{scope}:{window}:{window_start}:{digest}") or 0)


def rate_limited_json(*, retry_after: int) -> JsonResponse:
    response = JsonResponse(
        {
            "object": "error",
            # One code for every 429 of the site, as the tariff API's polling limit answers.
            "type": "rate_limit",
            "code": "rate_limit",
            "message": _("Too many requests. Retry after %(seconds)s seconds.")
            % {"seconds": retry_after},
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def rate_limited_page(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    response = TemplateResponse(
        request,
        "errors/rate_limited.html",
        {"retry_after_minutes": max(1, (retry_after + 59) // 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


# --- Key functions ---------------------------------------------------------------------------
def key_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def rate_limit(
    key_func: KeyFunc,
    limit: Limit,
    window: int = 60,
    *,
    scope: str | None = None,
    html: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view: at most `limit` requests per `window` seconds per `key_func(request)`.

    `limit` may be a callable (read settings per request, so tests can override them). A key
    function returning None does not count. Stacking decorators gives several limits (per client
    *and* per IP). Switched off entirely by RATE_LIMIT_ENABLED=false.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view_scope = scope or f"{view.__module__}.{view.__qualname__}:{key_func.__name__}"

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(settings, "RATE_LIMIT_ENABLED", True):
                key = key_func(request)
                if key is not None:
                    result = rate_limit_hit(
                        scope=view_scope, key=key, limit=_resolve(limit), window=window
                    )
                    if not result.allowed:
                        if html:
                            return rate_limited_page(request, retry_after=result.retry_after)
                        return rate_limited_json(retry_after=result.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def auth_uri_limit() -> int:
    return settings.RATE_LIMIT_AUTH_URI_PER_MINUTE


def auth_uri_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The authentication URI's limit: RATE_LIMIT_AUTH_URI_PER_MINUTE per IP, friendly page."""
    scope = f"{view.__module__}.{view.__qualname__}:ip"
    return rate_limit(key_ip, auth_uri_limit, 60, scope=scope, html=True)(view)
