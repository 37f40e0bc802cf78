"""Reads of tokens and clients for the OAuth server and the tariff API's bearer check.

Every secret is looked up by its stored digest (`tokens.secret_hash`), never in clear.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.transaction import TransactionManagementError

from provider_auth.oauth import sql, tokens
from provider_auth.oauth.models import AccessToken, OAuthClient, RefreshToken


def access_token_lookup(value: str) -> AccessToken | None:
    """The access token with this value, with its grant, premise and client (one query)."""
    return (
        AccessToken.objects.select_related("grant", "grant__premise", "grant__client")
        .filter(token_hash=tokens.secret_hash(value))
        .first()
    )


def refresh_token_lookup(value: str) -> RefreshToken | None:
    return (
        RefreshToken.objects.select_related("grant", "grant__client", "grant__customer")
        .filter(token_hash=tokens.secret_hash(value))
        .first()
    )


# The refresh grant's two reads are hand-written (`provider_auth.oauth.sql`): compiling them
# as querysets doubled the grant's CPU time (docs/performance.md, "Hand-written SQL").


def client_active_get(client_id: str) -> OAuthClient | None:
    """The active client with this client_id (one query), not yet authenticated."""
    return sql.client_active_select(client_id)


def refresh_token_lock(value: str, *, wait: bool) -> RefreshToken | None:
    """The refresh token with this value and its grant, its row locked until the transaction
    ends (`SELECT … FOR UPDATE OF` the token's table, on databases that have row locks), or
    None.

    `wait=False` skips a row another transaction holds (SKIP LOCKED): None then means "unknown
    or busy", and the caller asks again with `wait=True`.
    """
    connection = connections[router.db_for_write(RefreshToken)]
    if not connection.in_atomic_block:
        raise TransactionManagementError("refresh_token_lock needs a transaction.")
    return sql.refresh_token_select_for_update(tokens.secret_hash(value), wait=wait)
