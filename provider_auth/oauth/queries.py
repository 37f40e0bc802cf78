"""Reads of tokens and clients for the OAuth server and the tariff API's bearer check.

Every secret is looked up by its stored digest (`tokens.secret_hash`), never in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.transaction import TransactionManagementError

from provider_auth.oauth import tokens
from provider_auth.oauth.models import AccessToken, Grant, OAuthClient, RefreshToken


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


# --- The token endpoint's reads, in plain SQL ---------------------------------------------------
# The refresh grant reads two rows per request (the client, the refresh token with its grant).
# Compiling those querysets cost more CPU than PostgreSQL spent answering them
# (benchmarks/notes.md, "Refresh grant"), so they are written out once here. Identifiers come
# from the models; every value is a bound parameter; each value is converted by the same
# converters the ORM applies, so the instances are what a queryset would have returned.


class _Columns:
    """Every concrete column of `model` under the table alias `alias`."""

    def __init__(self, model: Any, alias: str) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.cols = [f.get_col(model._meta.db_table) for f in self.fields]
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self._converters: dict[str, list[list[Any]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def instance(self, connection: Any, values: Sequence[Any]) -> Any:
        converters = self._converters.get(connection.alias)
        if converters is None:
            converters = self._converters[connection.alias] = [
                connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                for col in self.cols
            ]
        row = []
        for col, col_converters, value in zip(self.cols, converters, values, strict=True):
            for convert in col_converters:
                value = convert(value, col, connection)
            row.append(value)
        return self.model.from_db(connection.alias, self.attnames, row)


_CLIENT_COLUMNS = _Columns(OAuthClient, "c")
_REFRESH_COLUMNS = _Columns(RefreshToken, "r")
_GRANT_COLUMNS = _Columns(Grant, "g")
_CLIENT_SQL = f"""
SELECT {_CLIENT_COLUMNS.sql} FROM "{OAuthClient._meta.db_table}" c
WHERE c."client_id" = %s AND c."is_active" = %s
"""  # noqa: S608
_REFRESH_SQL = f"""
SELECT {_REFRESH_COLUMNS.sql}, {_GRANT_COLUMNS.sql}
FROM "{RefreshToken._meta.db_table}" r JOIN "{Grant._meta.db_table}" g ON g."id" = r."grant_id"
WHERE r."token_hash" = %s
"""  # noqa: S608


def client_active_get(client_id: str) -> OAuthClient | None:
    """The active client with this client_id (one query), not yet authenticated."""
    connection = connections[router.db_for_read(OAuthClient)]
    with connection.cursor() as cursor:
        cursor.execute(_CLIENT_SQL, [client_id, True])
        row = cursor.fetchone()
    return None if row is None else _CLIENT_COLUMNS.instance(connection, row)


def refresh_token_lock(value: str, *, wait: bool) -> RefreshToken | None:
    """The refresh token with this value and its grant, its row locked until the transaction
    ends (`SELECT … FOR UPDATE OF r`, on databases that have row locks), or None.

    `wait=False` skips a row another transaction holds (SKIP LOCKED): None then means "unknown
    or busy", and the caller asks again with `wait=True`.
    """
    connection = connections[router.db_for_write(RefreshToken)]
    if not connection.in_atomic_block:
        raise TransactionManagementError("refresh_token_lock needs a transaction.")
    sql = _REFRESH_SQL
    if connection.features.has_select_for_update:
        sql += connection.ops.for_update_sql(
            skip_locked=not wait, of=("r",) if connection.features.has_select_for_update_of else ()
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tokens.secret_hash(value)])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_REFRESH_COLUMNS)
    token = _REFRESH_COLUMNS.instance(connection, row[:split])
    RefreshToken.grant.field.set_cached_value(
        token, _GRANT_COLUMNS.instance(connection, row[split:])
    )
    return token
