"""The identity provider's discovery document and signing keys, cached and refreshed safely.

Threat: a token with a forged `kid` must not make every instance fetch the JWKS on every
request (amplifying an attack onto the identity provider), so an unknown `kid` triggers at most
one refresh per interval across all instances (a shared-cache `add`). The discovery document's
`issuer` must equal the configured one, which keeps a look-alike provider from being used.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import requests
from django.core.cache import cache
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from provider_auth.oidc.conf import OidcSettings
from provider_auth.oidc.errors import OidcInvalid, OidcUnavailable

logger = logging.getLogger(__name__)


def _cache_key(kind: str, issuer: str) -> str:
    return f"oidc:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"


def _fetch_json(*, url: str, config: OidcSettings, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=config.timeout, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        logger.warning("OpenID provider %s unreachable at %s: %s", what, url, type(error).__name__)
        raise OidcUnavailable(f"{what}_unreachable") from error
    if response.status_code >= 500:
        logger.warning("OpenID provider %s answered %s at %s", what, response.status_code, url)
        raise OidcUnavailable(f"{what}_server_error")
    try:
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        logger.error(
            "OpenID provider %s at %s is not usable JSON (HTTP %s)", what, url, response.status_code
        )
        raise OidcUnavailable(f"{what}_invalid") from error
    if not isinstance(body, dict):
        raise OidcUnavailable(f"{what}_invalid")
    return body


def oidc_metadata_get(*, config: OidcSettings) -> dict[str, Any]:
    """The discovery document: cached in the shared cache; fetched with a bounded wait."""
    key = _cache_key("metadata", config.issuer)
    metadata = cache.get(key)
    if isinstance(metadata, dict):
        return metadata
    metadata = _fetch_json(url=config.discovery_url, config=config, what="discovery")
    if metadata.get("issuer") != config.issuer:
        # OpenID Connect Discovery 4.3: the document must name exactly the configured issuer.
        logger.error(
            "OpenID provider discovery names issuer %r, OIDC_ISSUER is %r: fix OIDC_ISSUER",
            metadata.get("issuer"),
            config.issuer,
        )
        raise OidcUnavailable("discovery_issuer_mismatch")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = metadata.get(field)
        # The authorization endpoint becomes a link on our page: http(s) URLs only.
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            logger.error("OpenID provider discovery lacks %s", field)
            raise OidcUnavailable("discovery_incomplete")
    cache.set(key, metadata, timeout=config.metadata_cache_seconds)
    return metadata


def _jwks_fetch(*, config: OidcSettings) -> dict[str, Any]:
    metadata = oidc_metadata_get(config=config)
    jwks = _fetch_json(url=metadata["jwks_uri"], config=config, what="jwks")
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        logger.error("OpenID provider JWKS at %s cannot be read", metadata["jwks_uri"])
        raise OidcUnavailable("jwks_invalid") from error
    cache.set(_cache_key("jwks", config.issuer), jwks, timeout=config.metadata_cache_seconds)
    return jwks


def oidc_key_set_get(*, config: OidcSettings) -> KeySet:
    """The cached signing keys (fetched when the cache has none)."""
    jwks = cache.get(_cache_key("jwks", config.issuer))
    if not isinstance(jwks, dict):
        jwks = _jwks_fetch(config=config)
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]


def oidc_key_set_refresh(*, config: OidcSettings) -> KeySet | None:
    """Fetch the JWKS again after an unknown `kid`: at most once per interval, all instances.

    None when a refresh happened too recently: the caller treats the `kid` as unknown.
    """
    gate = _cache_key("jwks-refresh", config.issuer)
    if not cache.add(gate, 1, timeout=config.jwks_refresh_interval_seconds):
        logger.warning(
            "Unknown kid again within %ss: JWKS not refetched (rate limit)",
            config.jwks_refresh_interval_seconds,
        )
        return None
    return KeySet.import_key_set(_jwks_fetch(config=config))  # type: ignore[arg-type]


def oidc_signing_key_find(*, config: OidcSettings, kid: str | None, alg: str) -> Any:
    """The key for a token header, refreshing the JWKS once on an unknown `kid`."""
    key_set = oidc_key_set_get(config=config)
    key = _pick(key_set, kid=kid, alg=alg)
    if key is None:
        refreshed = oidc_key_set_refresh(config=config)
        key = _pick(refreshed, kid=kid, alg=alg) if refreshed is not None else None
    if key is None:
        raise OidcInvalid("unknown_kid")
    return key


def _pick(key_set: KeySet, *, kid: str | None, alg: str) -> Any:
    candidates = [
        key
        for key in key_set.keys
        if (kid is None or key.kid == kid)
        and key.get("use", "sig") == "sig"
        and key.get("alg", alg) == alg
    ]
    # Without a kid the choice must be unambiguous, or an attacker picks for us.
    return candidates[0] if len(candidates) == 1 else None
