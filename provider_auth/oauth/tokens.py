"""Generating and hashing bearer secrets (tokens, codes, client secrets).

Threat: a database leak must not hand out working credentials. Every secret is 256 bits from
the OS CSPRNG and only its SHA-256 digest is stored. A password KDF would add nothing here: with
256 bits of entropy there is nothing to brute-force, and a fast hash keeps token checks cheap on
the hot path (every tariff poll). Comparisons of digests are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Prefixes make leaked values recognisable by secret scanners and in support tickets.
ACCESS_TOKEN_PREFIX = "lat_"  # noqa: S105
REFRESH_TOKEN_PREFIX = "lrt_"  # noqa: S105
AUTHORIZATION_CODE_PREFIX = "lac_"  # noqa: S105
CLIENT_SECRET_PREFIX = "lcs_"  # noqa: S105


def secret_generate(prefix: str) -> str:
    """A fresh secret: prefix + 43 url-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(value: str) -> str:
    """The stored form of a secret: hex SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def secret_matches(value: str, stored_hash: str) -> bool:
    """Constant-time check of a presented secret against its stored hash."""
    return hmac.compare_digest(secret_hash(value), stored_hash)
