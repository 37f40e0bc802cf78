"""The poll query is a server-side prepared statement on PostgreSQL, and only it; a statement a
connection pooler lost costs a poll nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from provider_auth.oauth.tokens import secret_hash
from provider_auth.tariff_api import prepared, sql

# Deselected from the SQLite pass ("not postgres"), failing there if PostgreSQL is required.
pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("_require_postgres")]


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [statement for (statement,) in cursor.fetchall()]


def _loaded(instance: Any) -> dict[str, str]:
    # As text: the prepared statement's results come in binary, the unprepared one's as text,
    # and an ETag made of either must not tell them apart (a datetime's zone object included).
    return {k: repr(v) for k, v in vars(instance).items() if k != "_state"}


def _fetch(access_token: str) -> Any:
    found = sql.polling_token_fetch(token_hash=secret_hash(access_token), at=timezone.now())
    assert found is not None
    token, contracts = found
    grant = token.grant
    return (
        [_loaded(instance) for instance in (token, grant, grant.client, grant.premise)],
        [(repr(row), [str(v) for v in row]) for row in contracts],
    )


def test_the_poll_query_is_prepared_once_per_connection_and_nothing_else_is(
    access_token: str, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.DB_PREPARE_POLL_QUERY = True
    with django_assert_num_queries(1):  # still one query, logged as Django logs any
        first = _fetch(access_token)
    assert [_fetch(access_token) for _ in range(3)] == [first] * 3
    statements = _prepared_statements()
    assert len(statements) == 1
    assert '"token_hash" = $1' in statements[0]
    assert first[1]  # the contract in force came through the prepared statement


def test_with_preparing_switched_off_nothing_is_prepared_and_the_rows_are_the_same(
    access_token: str, settings: Any
) -> None:
    settings.DB_PREPARE_POLL_QUERY = True
    with_preparing = _fetch(access_token)
    with transaction.atomic():  # a rollback has psycopg deallocate what it prepared
        transaction.set_rollback(True)
    settings.DB_PREPARE_POLL_QUERY = False
    assert _fetch(access_token) == with_preparing
    assert _prepared_statements() == []


def test_a_statement_the_pooler_lost_runs_unprepared_and_preparing_stays_off(
    transactional_db: Any,
    access_token: str,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DB_PREPARE_POLL_QUERY = True
    monkeypatch.setattr(prepared, "_disabled", False)
    expected = _fetch(access_token)
    # What a transaction-pooling PgBouncer without prepared-statement support does: the next
    # transaction runs on a server connection that never saw the statement. Dropped behind
    # psycopg's back, so it still believes the statement exists.
    connection.connection.pgconn.exec_(b"DEALLOCATE ALL")
    with caplog.at_level(logging.ERROR, logger=prepared.__name__):
        assert _fetch(access_token) == expected
    assert "DB_PREPARE_POLL_QUERY=false" in caplog.text
    assert prepared._disabled
    assert _fetch(access_token) == expected
    assert _prepared_statements() == []
