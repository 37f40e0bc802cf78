"""The tariff poll path's hand-written SQL reads exactly what the ORM would, field for field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F, FilteredRelation
from django.db.models.signals import post_init
from django.utils import timezone

from accounts.models import (
    Contract,
    Direction,
    Premise,
    PricePublication,
    Tariff,
    contract_in_force_q,
)
from provider_auth.oauth.models import AccessToken, Grant, OAuthClient
from provider_auth.oauth.tokens import secret_hash
from provider_auth.tariff_api import sql

pytestmark = pytest.mark.django_db

_K = "grant__premise__contracts__"


def _orm_token(token_hash: str) -> AccessToken:
    return AccessToken.objects.select_related("grant__client", "grant__premise").get(
        token_hash=token_hash
    )


def _orm_contracts(token_hash: str, at: dt.datetime) -> list[sql.ContractRow]:
    """The same question asked through the ORM (what the SQL replaces)."""
    rows = (
        AccessToken.objects.filter(token_hash=token_hash)
        .annotate(
            k=FilteredRelation(
                "grant__premise__contracts", condition=contract_in_force_q(at, prefix=_K)
            )
        )
        .filter(k__isnull=False)
        .annotate(
            **{f"k_{name}": F(f"k__{name}") for name in sql.CONTRACT_FIELDS},
            **{f"f_{name}": F(f"k__tariff__{name}") for name in sql.TARIFF_FIELDS},
        )
        .order_by("k__start_at", "k__id")
    )
    return [
        sql.ContractRow(
            pk=row.k_id,
            direction=row.k_direction,
            start_at=row.k_start_at,
            end_at=row.k_end_at,
            updated_at=row.k_updated_at,
            tariff_id=row.k_tariff,
            tariff_updated_at=row.f_updated_at,
            tariff_fields=(
                row.f_name,
                row.f_currency,
                row.f_timezone,
                str(row.f_standing_charge),
                row.f_pricing,
                str(row.f_prices_include_vat),
                row.f_bidding_zone,
            ),
            pricing=row.f_pricing,
            publication_tag=None,
        )
        for row in rows
    ]


def _values(instance: Any, attnames: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in attnames}


@pytest.fixture
def premise_with_contracts(make_premise, make_contract, make_tariff) -> Any:
    now = timezone.now()
    premise = make_premise()
    make_contract(  # ended: not in force
        premise=premise, start_at=now - dt.timedelta(days=400), end_at=now - dt.timedelta(days=30)
    )
    make_contract(premise=premise, start_at=now - dt.timedelta(days=30), end_at=None)
    make_contract(
        premise=premise,
        tariff=make_tariff(name="Solar Export", standing_charge="0"),
        direction=Direction.EXPORT,
        start_at=now - dt.timedelta(days=10),
        end_at=now + dt.timedelta(days=10),
    )
    return premise


@pytest.fixture
def token_for(flatpeak_client: Any) -> Callable[..., str]:
    from provider_auth.oauth.services import grant_issue

    def issue(premise: Any) -> str:
        _, tokens = grant_issue(
            customer=premise.customer,
            premise=premise,
            client=flatpeak_client[0],
            directions=["IMPORT", "EXPORT"],
        )
        return secret_hash(tokens.access_token)

    return issue


@pytest.mark.parametrize("with_contracts", [True, False])
def test_the_token_grant_client_and_premise_equal_the_orms(
    premise_with_contracts: Any, token_for: Callable[..., str], with_contracts: bool
) -> None:
    digest = token_for(premise_with_contracts)
    found = sql.polling_token_fetch(
        token_hash=digest, at=timezone.now() if with_contracts else None
    )
    assert found is not None
    token, _ = found
    expected = _orm_token(digest)
    assert _values(token, sql.TOKEN.attnames) == _values(expected, sql.TOKEN.attnames)
    assert _values(token.grant, sql.GRANT.attnames) == _values(expected.grant, sql.GRANT.attnames)
    assert _values(token.grant.client, sql.CLIENT.attnames) == _values(
        expected.grant.client, sql.CLIENT.attnames
    )
    assert _values(token.grant.premise, sql.PREMISE.attnames) == _values(
        expected.grant.premise, sql.PREMISE.attnames
    )


def test_the_instances_are_fetched_rows_with_the_unread_fields_deferred(
    premise_with_contracts: Any, token_for: Callable[..., str]
) -> None:
    digest = token_for(premise_with_contracts)
    found = sql.polling_token_fetch(token_hash=digest, at=timezone.now())
    assert found is not None
    token = found[0]
    for instance, columns in (
        (token, sql.TOKEN),
        (token.grant, sql.GRANT),
        (token.grant.client, sql.CLIENT),
        (token.grant.premise, sql.PREMISE),
    ):
        model = type(instance)
        # What the ORM's `.only()` of the same columns leaves deferred.
        orm = model.objects.only(*columns.attnames).get(pk=instance.pk)
        assert instance.get_deferred_fields() == orm.get_deferred_fields()
        assert (instance._state.adding, instance._state.db) == (False, "default")
    premise = token.grant.premise
    unread = sorted(premise.get_deferred_fields())[0]
    # A deferred field loads on access, as on any ORM instance.
    assert getattr(premise, unread) == getattr(Premise.objects.get(pk=premise.pk), unread)


def test_a_model_whose_init_signals_have_receivers_is_built_through_from_db(
    premise_with_contracts: Any, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    digest = token_for(premise_with_contracts)
    post_init.connect(receiver, sender=Premise)
    monkeypatch.setattr(sql.PREMISE, "_needs_init", None)  # asked again on the next fetch
    try:
        found = sql.polling_token_fetch(token_hash=digest, at=timezone.now())
    finally:
        post_init.disconnect(receiver, sender=Premise)
    assert found is not None
    assert seen == [found[0].grant.premise]


def test_the_contracts_in_force_equal_the_orms(
    premise_with_contracts: Any, token_for: Callable[..., str]
) -> None:
    digest = token_for(premise_with_contracts)
    at = timezone.now()
    found = sql.polling_token_fetch(token_hash=digest, at=at)
    assert found is not None
    _, contracts = found
    assert len(contracts) == 2
    # The standing charge is kept as the driver's text (PostgreSQL "0.4500", SQLite "0.45"): it
    # feeds the document's version, which must not change under a deploy. Same number either way.
    assert [_with_decimal_charge(row) for row in contracts] == [
        _with_decimal_charge(row) for row in _orm_contracts(digest, at)
    ]


def _with_decimal_charge(row: sql.ContractRow) -> sql.ContractRow:
    *text, charge, pricing, vat, zone = row.tariff_fields
    return row._replace(tariff_fields=(*text, Decimal(charge), pricing, vat, zone))


def test_the_publication_state_equals_the_price_selectors(
    make_premise: Any, make_contract: Any, make_tariff: Any, token_for: Callable[..., str]
) -> None:
    from accounts.models import Pricing
    from accounts.price_import import price_import_target, prices_import
    from accounts.price_selectors import tariff_price_source_state
    from tests.accounts.price_files import csv_of, day_rows

    published = make_tariff(name="Agile")
    Tariff.objects.filter(pk=published.pk).update(pricing=Pricing.PUBLISHED)
    market = make_tariff(name="Dynamisch", currency="EUR", timezone_name="Europe/Berlin")
    Tariff.objects.filter(pk=market.pk).update(pricing=Pricing.MARKET_INDEXED, bidding_zone="DE-LU")
    published.refresh_from_db()
    market.refresh_from_db()
    day = dt.date(2026, 1, 15)
    for version in (1, 2):  # a re-published day sums its versions
        prices_import(
            data=csv_of(day_rows(day, "Europe/London", 30)),
            file_format="csv",
            target=price_import_target(tariff=published),
            now=dt.datetime(2026, 1, 14, 16, version, tzinfo=dt.UTC),
        )
    prices_import(
        data=csv_of(day_rows(day, "Europe/Berlin", 15)),
        file_format="csv",
        target=price_import_target(zone="DE-LU"),
        now=dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC),
    )
    premise = make_premise()
    make_contract(premise=premise, tariff=published)
    make_contract(premise=premise, tariff=market, direction=Direction.EXPORT)
    found = sql.polling_token_fetch(token_hash=token_for(premise), at=timezone.now())
    assert found is not None
    tags = {row.tariff_id: row.publication_tag for row in found[1]}
    for tariff in (published, market):
        expected = tariff_price_source_state(tariff=tariff)
        days, versions, last = tags[tariff.pk].split(".", 2)
        assert (int(days), int(versions)) == (expected.days, expected.versions)
        assert last.startswith(expected.last_updated.strftime("%Y-%m-%d %H:%M:%S"))
        assert expected.days == 1


def test_a_premise_without_a_contract_in_force_still_finds_its_token(
    make_premise: Callable[..., Any], token_for: Callable[..., str]
) -> None:
    digest = token_for(make_premise())
    found = sql.polling_token_fetch(token_hash=digest, at=timezone.now())
    assert found is not None
    assert found[1] == [] == _orm_contracts(digest, timezone.now())
    assert found[0].pk == _orm_token(digest).pk


def test_an_unknown_token_finds_nothing(db: Any) -> None:
    assert sql.polling_token_fetch(token_hash="0" * 64, at=timezone.now()) is None
    assert sql.polling_token_fetch(token_hash="0" * 64, at=None) is None


def test_the_sql_names_the_models_own_tables() -> None:
    expected = {
        model._meta.db_table
        for model in (AccessToken, Grant, OAuthClient, Premise, Contract, Tariff, PricePublication)
    }
    query = sql._token_with_contracts_sql("postgresql")
    assert set(re.findall(r'(?:FROM|JOIN) "([^"]+)"', query)) == expected


@pytest.mark.parametrize("vat", [True, False])
def test_the_range_contracts_equal_the_orms(
    premise_with_contracts: Any, make_contract: Any, make_tariff: Any, vat: bool
) -> None:
    from provider_auth.tariff_api.selectors import contract_list_overlapping

    now = timezone.now()
    Tariff.objects.update(prices_include_vat=vat, prices_publish_time=dt.time(16, 30))
    start, end = now - dt.timedelta(days=40), now + dt.timedelta(days=1)
    fast = sql.contracts_with_series_fetch(
        premise_id=premise_with_contracts.pk, direction=Direction.IMPORT, start=start, end=end
    ).contracts
    orm = contract_list_overlapping(
        premise=premise_with_contracts, direction=Direction.IMPORT, start=start, end=end
    )
    assert len(fast) == len(orm) == 2

    def fields(instance: Any) -> dict[str, Any]:
        return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}

    for a, b in zip(fast, orm, strict=True):
        assert (a.contract.pk, a.contract.start_at, a.contract.end_at, a.contract.updated_at) == (
            b.pk,
            b.start_at,
            b.end_at,
            b.updated_at,
        )
        assert vars(a.tariff) == {"pk": b.tariff.pk, **fields(b.tariff)}
        assert [vars(r) for r in a.rules] == [
            {"pk": r.pk, **fields(r)} for r in b.tariff.rules.all()
        ]


def test_a_premises_customer_equals_the_orms(make_premise: Any) -> None:
    premise = make_premise()
    premise.customer.account_number = "A-1234ABCD"
    premise.customer.save(update_fields=["account_number"])
    assert sql.premise_customer_fetch(premise_id=premise.pk) == (
        premise.customer_id,
        Premise.objects.get(pk=premise.pk).customer.account_number,
    )
    assert sql.premise_customer_fetch(premise_id=premise.pk + 1000) is None
