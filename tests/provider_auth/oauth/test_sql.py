"""The refresh grant's hand-written statements (`provider_auth.oauth.sql`) read and write
exactly what the ORM reads and writes, field for field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.utils import timezone

from provider_auth.oauth import sql, tokens
from provider_auth.oauth.models import AccessToken, Grant, OAuthClient, RefreshToken

pytestmark = pytest.mark.django_db(transaction=False)


def fields_of(instance: models.Model) -> dict[str, Any]:
    """Every concrete field's value, with its Python type (a str is not a datetime)."""
    return {
        f.attname: (type(v), v)
        for f in type(instance)._meta.concrete_fields
        for v in [getattr(instance, f.attname)]
    }


def test_the_client_read_equals_the_orm_s(make_oauth_client: Any) -> None:
    registered, _secret = make_oauth_client(client_id="flatpeak")
    orm = OAuthClient.objects.filter(client_id="flatpeak", is_active=True).first()
    assert orm is not None
    found = sql.client_active_select("flatpeak")
    assert found is not None
    assert fields_of(found) == fields_of(orm)
    assert found._state.adding is False and found._state.db == orm._state.db
    assert sql.client_active_select("nobody") is None
    OAuthClient.objects.filter(pk=registered.pk).update(is_active=False)
    assert sql.client_active_select("flatpeak") is None


@pytest.mark.parametrize("used", [False, True])
def test_the_refresh_token_read_equals_the_orm_s_with_its_grant(
    active_tokens: Any, used: bool
) -> None:
    grant, issued = active_tokens()
    digest = tokens.secret_hash(issued.refresh_token)
    if used:
        RefreshToken.objects.filter(token_hash=digest).update(used_at=timezone.now())
        Grant.objects.filter(pk=grant.pk).update(last_used_at=timezone.now())
    orm = RefreshToken.objects.select_related("grant").get(token_hash=digest)
    with transaction.atomic():
        found = sql.refresh_token_select_for_update(digest, wait=True)
        assert found is not None
        assert fields_of(found) == fields_of(orm)
        assert fields_of(found.grant) == fields_of(orm.grant)
        assert sql.refresh_token_select_for_update("0" * 64, wait=False) is None


def test_a_hand_inserted_row_is_stored_as_save_stores_it(active_tokens: Any) -> None:
    grant, _issued = active_tokens()
    now = timezone.now()

    def access(token_hash: str) -> AccessToken:
        return AccessToken(
            grant=grant,
            token_hash=token_hash,
            scope=grant.scope,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=300),
        )

    by_hand, by_orm = access("a" * 64), access("b" * 64)
    sql.row_insert(by_hand)
    by_orm.save(force_insert=True)
    assert by_hand.pk is not None and by_hand._state.adding is False
    stored_hand = fields_of(AccessToken.objects.get(pk=by_hand.pk))
    stored_orm = fields_of(AccessToken.objects.get(pk=by_orm.pk))
    for name in ("id", "token_hash"):
        del stored_hand[name], stored_orm[name]
    assert stored_hand == stored_orm
    assert fields_of(by_hand)["expires_at"] == fields_of(by_orm)["expires_at"]

    refresh = RefreshToken(
        grant=grant,
        token_hash="c" * 64,
        access_token=by_hand,
        scope=grant.scope,
        created_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    sql.row_insert(refresh)
    stored = RefreshToken.objects.get(pk=refresh.pk)
    assert fields_of(stored) == fields_of(refresh)


def test_the_rotation_stamps_equal_the_orm_updates(active_tokens: Any) -> None:
    grant_a, issued_a = active_tokens()
    grant_b, issued_b = active_tokens()
    now = timezone.now()
    token_a = RefreshToken.objects.get(token_hash=tokens.secret_hash(issued_a.refresh_token))
    token_b = RefreshToken.objects.get(token_hash=tokens.secret_hash(issued_b.refresh_token))
    sql.refresh_token_mark_used(refresh_token=token_a, now=now)
    RefreshToken.objects.filter(pk=token_b.pk, used_at__isnull=True).update(used_at=now)
    Grant.objects.filter(pk=grant_b.pk).update(last_used_at=now)
    token_a.refresh_from_db()
    token_b.refresh_from_db()
    grant_a.refresh_from_db()
    grant_b.refresh_from_db()
    assert token_a.used_at == token_b.used_at == now
    assert grant_a.last_used_at == grant_b.last_used_at == now
    # a token already used keeps its first use
    sql.refresh_token_mark_used(refresh_token=token_a, now=now + dt.timedelta(seconds=5))
    token_a.refresh_from_db()
    assert token_a.used_at == now


def test_the_statements_name_the_models_tables_and_columns() -> None:
    quote = connection.ops.quote_name
    client_sql = sql._client_select(quote)
    refresh_sql = sql._refresh_select(quote)
    assert quote(OAuthClient._meta.db_table) in client_sql
    assert quote(RefreshToken._meta.db_table) in refresh_sql
    assert quote(Grant._meta.db_table) in refresh_sql
    for field in RefreshToken._meta.concrete_fields:
        assert f"r.{quote(field.column)}" in refresh_sql
