"""The poll query as a server-side prepared statement on PostgreSQL: planned once per database
connection instead of on every poll.

Why: PostgreSQL spends most of its time on the poll query planning it (a six-relation join with
two scalar subqueries, ~0.5 ms) and little running it (~0.1 ms); once prepared it settles on a
generic plan, and an execution costs about what the run alone did
(`benchmarks/poll_query_plan.py`). Django's psycopg backend never prepares: its default cursors
bind parameters on the client (psycopg's `ClientCursor` ignores `prepare=True`) and it opens
connections with `prepare_threshold=None`, which turns preparing off even for server-binding
cursors. So this one statement goes through a server-binding cursor that asks for preparing
(and for results in binary, which psycopg decodes in C where Django's text loaders are Python),
wrapped by Django like any other cursor (query logging, `execute_wrapper`s, error mapping),
and the connection's threshold is set so that only such an explicit request prepares — every
other query stays exactly as Django sends it.

Connection poolers: psycopg prepares with the extended protocol (Parse/Bind), which PgBouncer in
transaction pooling supports from 1.21 with `max_prepared_statements` set; older ones hand the
next transaction to another server, where the statement does not exist. `DB_PREPARE_POLL_QUERY=
false` turns this off (see docs/operations.md). Should the server reject the prepared statement
anyway — lost by a pooler, or its result columns changed by a migration while this process
runs — the query runs again unprepared and preparing stays off in this process, with an error
logged, rather than failing polls.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# SQLSTATEs of a prepared statement the server cannot run: missing on, or already present on,
# the server connection a pooler handed over (it was prepared on another one), or "cached plan
# must not change result type" after a migration altered a column it reads.
_STATEMENT_UNUSABLE = {"26000", "42P05", "0A000"}
# psycopg prepares a statement after this many executions unless asked to: never, here.
_ONLY_WHEN_ASKED = sys.maxsize

_cursor_class: Any = None
_disabled = False


def _preparing_cursor_class() -> Any:
    global _cursor_class
    if _cursor_class is None:
        from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
            ServerBindingCursor,
        )

        class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
            """Binds on the server, has every statement it executes prepared and its results
            sent in binary."""

            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                kwargs["prepare"] = True
                # Results in binary: psycopg decodes them in C, where the text form of a
                # timestamp goes through Django's Python loader (eight of them per poll).
                kwargs["binary"] = True
                return super().execute(query, params, **kwargs)

        _cursor_class = PreparingCursor
    return _cursor_class


def prepared_rows(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `query`, prepared on the server once per connection on PostgreSQL (when
    `DB_PREPARE_POLL_QUERY` is on); an ordinary cursor elsewhere."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARE_POLL_QUERY or _disabled:
        return _plain_rows(query, params)
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    try:
        # Django's own wrapping of a cursor it creates (logging, wrappers, error mapping).
        with connection._prepare_cursor(  # type: ignore[attr-defined]
            _preparing_cursor_class()(raw)
        ) as cursor:
            cursor.execute(query, params)
            return list(cursor.fetchall())
    except DatabaseError as error:
        sqlstate = getattr(error.__cause__, "sqlstate", None)
        if sqlstate not in _STATEMENT_UNUSABLE:
            raise
        _preparing_off(sqlstate)
        if connection.in_atomic_block:
            raise  # the transaction is aborted: nothing more can run in it
        return _plain_rows(query, params)


def _plain_rows(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


def _preparing_off(sqlstate: str) -> None:
    global _disabled
    _disabled = True
    logger.error(
        "The poll query's prepared statement failed on the server (SQLSTATE %s): a connection "
        "pooler in transaction mode that does not keep prepared statements (set "
        "DB_PREPARE_POLL_QUERY=false, or max_prepared_statements in PgBouncer), or a migration "
        "changed a column it reads. Preparing is off in this process until it restarts.",
        sqlstate,
    )
