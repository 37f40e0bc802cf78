"""Validating the identity provider's ID tokens and back-channel logout tokens.

Threats: a forged or substituted token logging someone in. Signatures are checked by joserfc
(Authlib's JOSE library) with an asymmetric-only algorithm allowlist, the claims by Authlib's
OpenID Connect `CodeIDToken` (iss, aud, azp, exp, iat, nonce, auth_time) and joserfc's claim
registry; nothing here parses or verifies a JWT by hand. What is added is policy: how old an
`iat` may be, `max_age` against `auth_time`, and the logout token's own rules.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from authlib.oidc.core import CodeIDToken
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from provider_auth.oidc.conf import ALLOWED_SIGNING_ALGORITHMS, OidcSettings
from provider_auth.oidc.errors import OidcInvalid
from provider_auth.oidc.provider import oidc_signing_key_find

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# An ID token is used straight after the code exchange; a logout token straight after logout.
MAX_TOKEN_AGE_SECONDS = 600


def _decode(*, token: str, config: OidcSettings) -> jwt.Token:
    def key_for(obj: Any) -> Any:
        header = obj.headers()
        alg = header.get("alg")
        if alg not in ALLOWED_SIGNING_ALGORITHMS:
            # Refused before any key lookup: "none" or HS256 must not even trigger a refresh.
            raise OidcInvalid("alg_not_allowed")
        kid = header.get("kid")
        return oidc_signing_key_find(
            config=config, kid=kid if isinstance(kid, str) else None, alg=alg
        )

    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 16_384:
        raise OidcInvalid("malformed")
    try:
        return jwt.decode(token, key_for, algorithms=list(ALLOWED_SIGNING_ALGORITHMS))
    except OidcInvalid:
        raise
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise OidcInvalid(f"signature:{type(error).__name__}") from error


def _check_iat(*, claims: dict[str, Any], now: int, config: OidcSettings) -> None:
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise OidcInvalid("claim:iat")
    if iat > now + config.clock_skew_seconds:
        raise OidcInvalid("claim:iat_future")
    if iat < now - MAX_TOKEN_AGE_SECONDS - config.clock_skew_seconds:
        raise OidcInvalid("claim:iat_too_old")


def id_token_validate(
    *,
    id_token: str,
    config: OidcSettings,
    nonce: str,
    access_token: str | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """The ID token's claims, or `OidcInvalid` with the reason (OpenID Connect Core 3.1.3.7)."""
    token = _decode(token=id_token, config=config)
    now = int(time.time()) if now is None else now
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": config.issuer},
            "aud": {"essential": True, "value": config.client_id},
            "sub": {"essential": True},
        },
        params={
            "nonce": nonce,
            "client_id": config.client_id,
            "max_age": config.max_age,
            "access_token": access_token,
        },
    )
    try:
        claims.validate(now=now, leeway=config.clock_skew_seconds)
    except JoseError as error:
        raise OidcInvalid(f"claim:{getattr(error, 'claim', '') or type(error).__name__}") from error
    if not nonce or claims.get("nonce") != nonce:  # CodeIDToken skips the check for no nonce
        raise OidcInvalid("claim:nonce")
    _check_iat(claims=claims, now=now, config=config)
    if config.max_age is not None:
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
            raise OidcInvalid("claim:auth_time")
        if auth_time + config.max_age < now - config.clock_skew_seconds:
            raise OidcInvalid("claim:auth_time_too_old")
    if config.acr_values:
        # Asked for a level of authentication (e.g. multi-factor): the token must state one of
        # them, or a provider that skipped it would pass unnoticed.
        if claims.get("acr") not in config.acr_values.split():
            raise OidcInvalid("claim:acr")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcInvalid("claim:sub")
    return dict(claims)


def logout_token_validate(
    *, logout_token: str, config: OidcSettings, now: int | None = None
) -> dict[str, Any]:
    """A back-channel logout token's claims (Back-Channel Logout 1.0, 2.6), or `OidcInvalid`.

    The `jti` is remembered in the shared cache until the token could no longer be accepted, so a
    replay on any instance is refused.
    """
    token = _decode(token=logout_token, config=config)
    now = int(time.time()) if now is None else now
    registry = JWTClaimsRegistry(
        now=now,
        leeway=config.clock_skew_seconds,
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": config.client_id},
        iat={"essential": True},
        jti={"essential": True},
    )
    claims = token.claims
    try:
        registry.validate(claims)
    except JoseError as error:
        raise OidcInvalid(f"claim:{getattr(error, 'claim', '') or type(error).__name__}") from error
    _check_iat(claims=claims, now=now, config=config)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise OidcInvalid("claim:events")
    if "nonce" in claims:  # forbidden, so an ID token cannot pass as a logout token
        raise OidcInvalid("claim:nonce_present")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
        raise OidcInvalid("claim:sub_or_sid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise OidcInvalid("claim:jti")
    digest = hashlib.sha256(f"{config.issuer}\0{jti}".encode()).hexdigest()
    ttl = MAX_TOKEN_AGE_SECONDS + 2 * config.clock_skew_seconds
    if not cache.add(f"oidc:logout-jti:{digest}", 1, timeout=ttl):
        raise OidcInvalid("replayed_jti")
    return dict(claims)
