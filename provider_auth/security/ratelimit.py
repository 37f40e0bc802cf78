"""Request rate limits in the shared cache.

Threat: brute force and resource exhaustion against endpoints that hand out or check
credentials (`/oauth/*`, the authentication URI). A fixed-window counter per (scope, key) lives
in Django's cache — Redis when REDIS_URL is set, so every worker and instance shares it;
each hit is one atomic INCR (+ EXPIRE on creation) there (`counter_incr`). Over the limit: 429 with Retry-After, as a
FlatPeak-style JSON error object for APIs or a friendly page for browsers.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _

from provider_auth.security.network import client_ip

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


# One redis-py client (and its script) per RedisCache client, i.e. per cache connection of a
# thread: building a client costs ~0.3 ms of CPU (its command table); RedisCache does per call.
_counter_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

# INCR, and give the key its lifetime when this INCR created it: atomic on the server (a script
# runs alone), so no key is ever left without an expiry, in one command.
_COUNTER_INCR_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _redis_counter_script(backend: Any) -> Any:
    # RedisCache's own client factory (`_cache` is its RedisCacheClient): same connection pool,
    # same value encoding (integers are stored as plain integers, so cache.get() reads them).
    cache_client = backend._cache
    script = _counter_scripts.get(cache_client)
    if script is None:
        client = cache_client.get_client(write=True)
        script = _counter_scripts[cache_client] = client.register_script(_COUNTER_INCR_LUA)
    return script


def counter_incr(*, key: str, timeout: int) -> int:
    """Add one to the shared counter `key`, creating it with `timeout` seconds to live, and
    return the new count.

    Same semantics as `cache.add(key, 0)` + `cache.incr(key)` (what `rate_limit_hit` does), but
    on Redis in one round trip — a server-side script (EVALSHA) doing INCR and, for a new key,
    EXPIRE — where Django's RedisCache needs three (SET NX, then EXISTS and INCR). The count
    stays exact across workers and hosts. Other cache backends (the in-memory one of
    development and tests) take the portable path.
    """
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        return int(_redis_counter_script(backend)(keys=[full_key], args=[timeout]))
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


# --- Client credentials (RFC 6749 §2.3.1) ----------------------------------------------------
CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 (a method name)
CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 (a method name)
# The realm of the Basic challenge the client endpoints answer with (RFC 7617 §2 requires one).
CLIENT_REALM = "oauth"
# One answer for every failed client authentication — unknown client, wrong secret, no or
# malformed credentials — so that the answer does not tell which client ids exist. ASCII and
# not translated: RFC 6749 §5.2 limits error_description to ASCII, for the client's developer.
CLIENT_AUTHENTICATION_FAILED = "Client authentication failed."


@dataclass(frozen=True)
class ClaimedClientCredentials:
    """Client credentials as presented, not yet verified."""

    method: str  # CLIENT_SECRET_BASIC or CLIENT_SECRET_POST
    client_id: str
    client_secret: str


def basic_credentials_decode(authorization: str) -> tuple[str, str] | None:
    """(client_id, client_secret) of an `Authorization: Basic …` header value, or None when it
    is not Basic or cannot be decoded.

    RFC 6749 §2.3.1: the id and the secret are each form-urlencoded (`+` is a space, `%XX` a
    byte of UTF-8) before RFC 7617 joins them with a colon and base64-encodes the result.
    """
    parts = authorization.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(parts[1].strip().encode("ascii"), validate=True).decode("utf-8")
        if ":" not in decoded:
            return None
        client_id, secret = decoded.split(":", 1)
        return unquote_plus(client_id, errors="strict"), unquote_plus(secret, errors="strict")
    except (binascii.Error, UnicodeError, ValueError):
        return None


def client_credentials_claimed(
    *, authorization: str, form: Mapping[str, str]
) -> ClaimedClientCredentials | None:
    """The client credentials of a request: HTTP Basic if the header is Basic, else
    `client_id` + `client_secret` in the form body; None when neither is complete.

    That a request uses only one of the two is checked before (`client_request_refusal` in the
    OAuth server); here Basic simply wins.
    """
    basic = basic_credentials_decode(authorization)
    if basic is not None:
        client_id, secret = basic
        if client_id and secret:
            return ClaimedClientCredentials(CLIENT_SECRET_BASIC, client_id, secret)
        return None
    client_id = form.get("client_id", "")
    secret = form.get("client_secret", "")
    if client_id and secret:
        return ClaimedClientCredentials(CLIENT_SECRET_POST, client_id, secret)
    return None


def _claimed_client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(client_id, client_secret) from HTTP Basic or the form body, unverified."""
    claimed = client_credentials_claimed(
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        form=request.POST if request.method == "POST" else {},
    )
    return None if claimed is None else (claimed.client_id, claimed.client_secret)


# The request attribute under which `key_client` leaves the OAuth client it authenticated.
CLIENT_ATTR = "_ratelimit_authenticated_oauth_client"


def key_client(request: HttpRequest) -> str | None:
    """The OAuth client a request *proves* to be (valid id and secret), else None.

    Counting only authenticated clients means nobody can exhaust FlatPeak's own budget by
    sending its public client_id with a wrong secret; unauthenticated floods are still counted
    per IP (RFC 6819 4.4.1.11). One indexed lookup and a SHA-256 compared in constant time.

    The client row it loaded is left on the request (`CLIENT_ATTR`) so that the OAuth server's
    client authentication, which runs next, need not query it again
    (`provider_auth.oauth.server.OAuthServer.authenticate_client`; it still checks the secret).
    """
    from provider_auth.oauth.server import client_active_get

    claimed = _claimed_client_credentials(request)
    if claimed is None:
        return None
    client_id, secret = claimed
    if "\x00" in client_id:
        return None
    client = client_active_get(client_id[:100])
    if client is None or not client.check_client_secret(secret):
        return None
    setattr(request, CLIENT_ATTR, client)
    return "client:" + client_id


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


def oauth_endpoint_limit() -> int:
    return settings.RATE_LIMIT_TOKEN_PER_MINUTE


def auth_uri_limit() -> int:
    return settings.RATE_LIMIT_AUTH_URI_PER_MINUTE


def basic_credentials_malformed(request: HttpRequest) -> bool:
    """True when an Authorization header would break client authentication parsing.

    A header with a space but a single word ("abc "), Basic credentials that are not ASCII
    base64 of UTF-8 with a colon, or whose form-urlencoding does not decode (found by fuzzing:
    Authlib's own parser raised a 500 on some). Such requests are refused as invalid_client
    up front, before the rate limit or the OAuth server reads them.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return False
    parts = header.split(None, 1)
    if len(parts) < 2:
        return " " in header
    if parts[0].lower() != "basic":
        return False
    decoded = basic_credentials_decode(header)
    return decoded is None or any("\x00" in value for value in decoded)


def invalid_client_response() -> JsonResponse:
    """RFC 6749 5.2: the client tried HTTP Basic and it failed, so 401 with a challenge."""
    response = JsonResponse(
        {"error": "invalid_client", "error_description": CLIENT_AUTHENTICATION_FAILED},
        status=401,
        # byte for byte what the OAuth server answers for any other failed authentication
        json_dumps_params={"separators": (",", ":")},
    )
    response["WWW-Authenticate"] = f'Basic realm="{CLIENT_REALM}"'
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def oauth_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The /oauth/* front door: RATE_LIMIT_TOKEN_PER_MINUTE per client id and per IP, then
    malformed Basic credentials refused (401 invalid_client) before Authlib parses them.

    These endpoints skip the browser-only middleware, LocaleMiddleware included
    (`provider_auth.tariff_api.middleware.OAUTH_CLIENT_PATHS`), so their few translated
    messages are given in LANGUAGE_CODE here — what a client sending no Accept-Language got
    before — rather than in whatever language the worker's thread last served a page in.
    """
    scope = f"{view.__module__}.{view.__qualname__}"
    per_ip = rate_limit(key_ip, oauth_endpoint_limit, 60, scope=scope + ":ip")
    per_client = rate_limit(key_client, oauth_endpoint_limit, 60, scope=scope + ":client")

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if basic_credentials_malformed(request):
            return invalid_client_response()
        return view(request, *args, **kwargs)

    limited = per_ip(per_client(guarded))

    @functools.wraps(view)
    def front_door(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(settings.LANGUAGE_CODE):
            return limited(request, *args, **kwargs)

    return front_door


def auth_uri_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The authentication URI's limit: RATE_LIMIT_AUTH_URI_PER_MINUTE per IP, friendly page."""
    scope = f"{view.__module__}.{view.__qualname__}:ip"
    return rate_limit(key_ip, auth_uri_limit, 60, scope=scope, html=True)(view)
