"""The refresh grant's statements, written out once instead of compiled by the ORM per request.

The token endpoint's refresh grant reads two rows (the client; the refresh token with its
grant) and writes four (two new tokens, two stamps). Compiling those querysets cost more CPU
than PostgreSQL spent running them: `docs/performance.md`, "Hand-written SQL: what it saves",
has the figures. Everything here is built from the models' own metadata — table names from
`_meta.db_table`, column names from each field's `column`, quoted by the connection — and every
value is a bound parameter converted by the field (`get_db_prep_save`) on the way in and by the
ORM's own converters on the way out, so the rows and the instances are exactly what the ORM
would store and return (`tests/provider_auth/oauth/test_sql.py` compares them field by field).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model

from provider_auth.consent.lifecycle import SUPPLY_END_ATTR, supply_end_sql, supply_end_value
from provider_auth.oauth.models import Grant, OAuthClient, RefreshToken


def _column(model: type[Model], name: str, quote: Any, alias: str = "") -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} has no column")
    column = quote(field.column)
    return f"{alias}.{column}" if alias else column


class _Columns:
    """Every concrete column of `model` under the table alias `alias`, and how to turn a row
    of them into an instance as a queryset would."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.cols = [f.get_col(model._meta.db_table) for f in self.fields]
        self._converters: dict[str, list[list[Any]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, quote: Any) -> str:
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def table(self, quote: Any) -> str:
        return f"{quote(self.model._meta.db_table)} {self.alias}"

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


_CLIENT = _Columns(OAuthClient, "c")
_REFRESH = _Columns(RefreshToken, "r")
_GRANT = _Columns(Grant, "g")
# Statements per (database vendor, statement): quoting is the connection's.
_STATEMENTS: dict[tuple[str, str], str] = {}


def _statement(connection: Any, name: str) -> str:
    key = (connection.vendor, name)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = _BUILDERS[name](connection.ops.quote_name)
    return sql


def _client_select(q: Any) -> str:
    return (
        f"SELECT {_CLIENT.sql(q)} FROM {_CLIENT.table(q)}"  # noqa: S608 (identifiers from models)
        f" WHERE {_column(OAuthClient, 'client_id', q, 'c')} = %s"
        f" AND {_column(OAuthClient, 'is_active', q, 'c')} = %s"
    )


def _refresh_select(q: Any) -> str:
    grant_pk = _column(Grant, Grant._meta.pk.name, q, "g")
    # The last column is when the supply at the grant's premise ends, so the grant's end is
    # checked without another query (`provider_auth.consent.lifecycle`).
    supply_end = supply_end_sql(premise_column=_column(Grant, "premise", q, "g"))
    return (
        f"SELECT {_REFRESH.sql(q)}, {_GRANT.sql(q)}, {supply_end}"  # noqa: S608 (identifiers from models)
        f" FROM {_REFRESH.table(q)} JOIN {_GRANT.table(q)}"
        f" ON {grant_pk} = {_column(RefreshToken, 'grant', q, 'r')}"
        f" WHERE {_column(RefreshToken, 'token_hash', q, 'r')} = %s"
    )


_BUILDERS = {"client": _client_select, "refresh": _refresh_select}


def client_active_select(client_id: str) -> OAuthClient | None:
    """`OAuthClient.objects.filter(client_id=…, is_active=True).first()`, in one statement."""
    connection = connections[router.db_for_read(OAuthClient)]
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection, "client"), [client_id, True])
        row = cursor.fetchone()
    return None if row is None else _CLIENT.instance(connection, row)


def refresh_token_select_for_update(token_hash: str, *, wait: bool) -> RefreshToken | None:
    """The refresh token with this digest, its grant attached, its row locked (`FOR UPDATE OF`
    the token's table alone, SKIP LOCKED unless `wait`) where the database has row locks.
    The caller holds the transaction."""
    connection = connections[router.db_for_write(RefreshToken)]
    sql = _statement(connection, "refresh")
    if connection.features.has_select_for_update:
        of = ("r",) if connection.features.has_select_for_update_of else ()
        sql += connection.ops.for_update_sql(skip_locked=not wait, of=of)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_REFRESH)
    token = _REFRESH.instance(connection, row[:split])
    grant = _GRANT.instance(connection, row[split:-1])
    setattr(grant, SUPPLY_END_ATTR, supply_end_value(row[-1]))
    RefreshToken.grant.field.set_cached_value(token, grant)
    return token


# --- Writes ------------------------------------------------------------------------------------
_INSERTS: dict[tuple[str, str], str] = {}


def row_insert(instance: Model) -> None:
    """INSERT one new row for `instance` and give it its primary key, as `save()` would (no
    signals: nothing listens to these models'). `INSERT … RETURNING` works on PostgreSQL and
    SQLite ≥ 3.35."""
    meta = type(instance)._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    connection = connections[router.db_for_write(type(instance))]
    key = (connection.vendor, meta.db_table)
    sql = _INSERTS.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _INSERTS[key] = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
            quote(meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
            quote(meta.pk.column),
        )
    params = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias


def refresh_token_mark_used(*, refresh_token: RefreshToken, now: dt.datetime) -> None:
    """`RefreshToken.objects.filter(pk=…, used_at__isnull=True).update(used_at=now)` unless
    the token was already used (a grace-period exchange keeps its first use), and
    `Grant.objects.filter(pk=…).update(last_used_at=now)`: the stamps of a rotation."""
    connection = connections[router.db_for_write(RefreshToken)]
    q = connection.ops.quote_name
    used_at = RefreshToken._meta.get_field("used_at")
    stamp = used_at.get_db_prep_save(now, connection)
    refresh_pk = _column(RefreshToken, RefreshToken._meta.pk.name, q)
    grant_pk = _column(Grant, Grant._meta.pk.name, q)
    with connection.cursor() as cursor:
        if refresh_token.used_at is None:
            cursor.execute(
                f"UPDATE {q(RefreshToken._meta.db_table)} SET {q(used_at.column)} = %s"  # noqa: S608
                f" WHERE {refresh_pk} = %s AND {q(used_at.column)} IS NULL",
                [stamp, refresh_token.pk],
            )
        cursor.execute(
            f"UPDATE {q(Grant._meta.db_table)}"  # noqa: S608
            f" SET {_column(Grant, 'last_used_at', q)} = %s WHERE {grant_pk} = %s",
            [stamp, refresh_token.grant_id],
        )
