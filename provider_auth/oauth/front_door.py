"""The front door of the OAuth client endpoints (`/oauth/token`, `/oauth/revoke`,
`/oauth/introspect`): how client credentials are read, and the limits in front of them.

Threat: brute force and resource exhaustion by whoever can reach the endpoints, and a parser
crash on hostile credentials. Every request is counted per IP before anything reads it;
malformed HTTP Basic credentials are refused as `invalid_client` before Authlib parses them; a
client is counted against its own budget only once the OAuth server has authenticated it
(`client_rate_limit_count`, called from `OAuthServer.authenticate_client`), so nobody can spend
FlatPeak's budget by sending its public client_id with a wrong secret (RFC 6819 4.4.1.11).
The counters and the 429 answer are `provider_auth.security.ratelimit`'s.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

from provider_auth.security.ratelimit import key_ip, rate_limit, rate_limit_hit, rate_limited_json

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


def basic_credentials_malformed(request: HttpRequest) -> bool:
    """True when an Authorization header would break client authentication parsing.

    A header with a space but a single word ("abc "), Basic credentials that are not ASCII
    base64 of UTF-8 with a colon, or whose form-urlencoding does not decode (found by fuzzing:
    Authlib's own parser raised a 500 on some). Such requests are refused as invalid_client
    up front, before the OAuth server reads them.
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


# --- The limits ------------------------------------------------------------------------------
def oauth_endpoint_limit() -> int:
    return settings.RATE_LIMIT_TOKEN_PER_MINUTE


def key_client(client_id: str) -> str:
    """The per-client counter's key of an authenticated client."""
    return "client:" + client_id


def client_rate_limit_scope(endpoint: str) -> str:
    """The per-client counter's scope for one endpoint (`token`, `revocation`,
    `introspection`): each endpoint has its own budget, as each has its own per-IP one."""
    return f"oauth.{endpoint}:client"


class ClientRateLimitedError(Exception):
    """An authenticated client is over its budget; `oauth_rate_limited` answers 429."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"client over its rate limit, retry after {retry_after}s")
        self.retry_after = retry_after


def client_rate_limit_count(*, client_id: str, endpoint: str) -> None:
    """Count one request of an authenticated client at `endpoint` (RATE_LIMIT_TOKEN_PER_MINUTE
    per client id, whatever the IP); raise `ClientRateLimitedError` over the limit.

    Called only once the client has proven its secret, so only the client itself can spend its
    budget. Switched off with every other limit by RATE_LIMIT_ENABLED=false.
    """
    if not getattr(settings, "RATE_LIMIT_ENABLED", True):
        return
    result = rate_limit_hit(
        scope=client_rate_limit_scope(endpoint),
        key=key_client(client_id),
        limit=oauth_endpoint_limit(),
        window=60,
    )
    if not result.allowed:
        raise ClientRateLimitedError(retry_after=result.retry_after)


def oauth_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The /oauth/* front door: RATE_LIMIT_TOKEN_PER_MINUTE per IP, then malformed Basic
    credentials refused (401 invalid_client) before Authlib parses them, then the view — whose
    client authentication counts the per-client limit (`client_rate_limit_count`); its
    `ClientRateLimitedError` becomes the 429 here.

    These endpoints skip the browser-only middleware, LocaleMiddleware included
    (`provider_auth.tariff_api.middleware.OAUTH_CLIENT_PATHS`), so their few translated
    messages are given in LANGUAGE_CODE here — what a client sending no Accept-Language got
    before — rather than in whatever language the worker's thread last served a page in.
    """
    scope = f"{view.__module__}.{view.__qualname__}"
    per_ip = rate_limit(key_ip, oauth_endpoint_limit, 60, scope=scope + ":ip")

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if basic_credentials_malformed(request):
            return invalid_client_response()
        try:
            return view(request, *args, **kwargs)
        except ClientRateLimitedError as limited:
            return rate_limited_json(retry_after=limited.retry_after)

    limited = per_ip(guarded)

    @functools.wraps(view)
    def front_door(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(settings.LANGUAGE_CODE):
            return limited(request, *args, **kwargs)

    return front_door
