"""The bearer check of the tariff API (RFC 6750): reading the Authorization header, looking
the access token up by its digest and accepting it for a scope, with Authlib's errors.
"""

from __future__ import annotations

import hmac
import re

from authlib.integrations.django_oauth2 import BearerTokenValidator as _BearerTokenValidator
from authlib.oauth2.rfc6749 import InvalidRequestError, MissingAuthorizationError

from provider_auth.oauth import tokens
from provider_auth.oauth.models import AccessToken
from provider_auth.oauth.queries import access_token_lookup


class BearerTokenValidator(_BearerTokenValidator):
    def __init__(self) -> None:
        super().__init__(AccessToken, realm="tariff")

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        if not token_string.startswith(tokens.ACCESS_TOKEN_PREFIX):
            return None  # not one of ours: no query
        return access_token_lookup(token_string)


bearer_validator = BearerTokenValidator()


# --- The bearer check of the tariff API's hot path ---------------------------------------------
# FlatPeak polls the tariff API far more often than anything else is called. The functions below
# are Authlib's `ResourceProtector.acquire_token` taken apart, so that the resource server can load the token
# together with what it serves in one query: the same header parsing as Authlib's
# ResourceProtector (`parse_request_authorization`), the same checks and errors (Authlib's
# `BearerTokenValidator.validate_token`: unknown, expired, revoked → invalid_token; scope →
# insufficient_scope), without wrapping the request for Authlib or sending its signal (nothing
# listens to it).


# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class BearerMalformedError(InvalidRequestError):
    """RFC 6750 §3.1 `invalid_request` (400): a Bearer header without a token, or with a value
    that is not a b64token."""


def bearer_token_value(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1).

    Raises `MissingAuthorizationError` without a header or with another scheme (Basic, …): the
    request carries no bearer credentials, so the answer is a bare challenge without an error
    code (RFC 6750 §3.1). Raises `BearerMalformedError` for a Bearer header whose token is
    empty or not a b64token (a space inside, a second word).
    """
    realm = bearer_validator.realm
    parts = authorization.split(None, 1)  # the scheme is case-insensitive (RFC 9110 §11.1)
    if not parts or parts[0].lower() != bearer_validator.TOKEN_TYPE:
        raise MissingAuthorizationError(bearer_validator.TOKEN_TYPE, realm)
    # Whitespace around a field value is not part of it (RFC 9110 §5.5).
    value = parts[1].strip() if len(parts) == 2 else ""
    if not value:
        raise BearerMalformedError("The Bearer header carries no token.")
    if not _B64TOKEN.fullmatch(value):
        raise BearerMalformedError("The Bearer token is malformed.")
    return value


def access_token_digest(value: str) -> str | None:
    """The stored digest to look `value` up by, or None when it is not one of our access tokens
    (then no query is needed to reject it)."""
    if not value.startswith(tokens.ACCESS_TOKEN_PREFIX):
        return None
    return tokens.secret_hash(value)


def access_token_validate(
    token: AccessToken | None, *, digest: str | None, scopes: list[str]
) -> AccessToken:
    """Accept `token` (found by `digest`) for `scopes` or raise Authlib's RFC 6750 errors.

    The token must be loaded with its grant and the grant's client: `is_revoked` reads the
    grant's status and the client's `is_active`.
    """
    if token is not None and not (digest and hmac.compare_digest(token.token_hash, digest)):
        token = None  # the database matched the index; confirm in constant time all the same
    bearer_validator.validate_token(token, scopes, None)
    assert token is not None  # noqa: S101 (validate_token raised otherwise)
    return token
