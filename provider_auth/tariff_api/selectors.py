"""Reads for the tariff API, folded to fit its budget of two queries per request.

Query 1 (`access_token_get_for_polling`) is the bearer token by digest with its grant, client
and premise and — for `/api/v1/tariff` — the premise's contracts in force, each with its
tariff's version. That is everything the tariff document's ETag depends on except the rate rules
(versioned by `tariff.updated_at`), so an unchanged document is answered 304 after one query.

Query 2 is only needed to build a document or a range of rates: the rate rules with their
tariff (`tariff_rules_get`) or, for `/rates`, the rules of every contract of the premise that
overlaps a time range (`contract_list_overlapping`), each row carrying its tariff (join) and its
contract's fields (the join through `tariff.contracts` that the filter set up). From those rows
we rebuild `Contract` objects whose `tariff.rules.all()` is already filled, exactly as
`prefetch_related` would leave it — so `accounts.tariffs` runs without touching the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import F, Q

from accounts.models import Contract, Premise, Tariff, TariffRule
from provider_auth.consent.lifecycle import SUPPLY_END_ATTR, supply_end_sql, supply_end_value
from provider_auth.oauth.models import AccessToken, Grant, OAuthClient


def _rules_cache_fill(tariff: Any, rules: list[TariffRule]) -> None:
    # What django.db.models.query.prefetch_one_level does for a reverse foreign key.
    queryset = tariff.rules.all()
    queryset._result_cache = rules
    queryset._prefetch_done = True
    tariff._prefetched_objects_cache = {"rules": queryset}


def contract_list_overlapping(
    *, premise: Premise, direction: str, start: dt.datetime, end: dt.datetime
) -> list[Contract]:
    """Contracts of `premise` in `direction` overlapping [start, end), oldest first, with their
    tariff and rules loaded — in one query. `start == end` asks for the contract at an instant.
    """
    overlap = (
        Q(tariff__contracts__start_at__lte=start)
        if start == end
        else Q(tariff__contracts__start_at__lt=end)
    )
    rows = (
        TariffRule.objects.select_related("tariff")
        .filter(
            overlap,
            Q(tariff__contracts__end_at__isnull=True) | Q(tariff__contracts__end_at__gt=start),
            tariff__contracts__premise_id=premise.pk,
            tariff__contracts__direction=direction,
        )
        # F() reuses the join the filter created, so these are the matching contract's fields.
        .annotate(
            contract_pk=F("tariff__contracts__id"),
            contract_start_at=F("tariff__contracts__start_at"),
            contract_end_at=F("tariff__contracts__end_at"),
            contract_updated_at=F("tariff__contracts__updated_at"),
        )
        .order_by("tariff__contracts__start_at", "id")
    )
    contracts: dict[int, Contract] = {}
    rules: dict[int, list[TariffRule]] = {}
    for row in rows:
        contract = contracts.get(row.contract_pk)
        if contract is None:
            contract = Contract(
                pk=row.contract_pk,
                premise=premise,
                tariff=row.tariff,
                direction=direction,
                start_at=row.contract_start_at,
                end_at=row.contract_end_at,
                updated_at=row.contract_updated_at,
            )
            contract._state.adding = False
            contract._state.db = "default"
            contracts[row.contract_pk] = contract
            rules[row.contract_pk] = []
        rules[row.contract_pk].append(row)
    for pk, contract in contracts.items():
        _rules_cache_fill(contract.tariff, rules[pk])
    return list(contracts.values())


def contract_get_current(*, premise: Premise, direction: str, at: dt.datetime) -> Contract | None:
    """The contract in force at `at` (the latest-starting one, should two ever overlap)."""
    found = contract_list_overlapping(premise=premise, direction=direction, start=at, end=at)
    return found[-1] if found else None


# --- Query 1: the bearer token and what the tariff document's version depends on --------------


@dataclass(frozen=True)
class ContractInForce:
    """A contract in force and every stored value its tariff document is made of, except the
    rate rules: those are covered by `tariff_updated_at`, which every write of a rule set bumps
    (`accounts.services.tariff_save_with_rules`, the admin's tariff form, the importer)."""

    pk: int
    direction: str
    start_at: dt.datetime
    end_at: dt.datetime | None
    updated_at: dt.datetime
    tariff_id: int
    tariff_updated_at: dt.datetime
    # name, currency, timezone, standing charge as stored: a queryset.update() that skips
    # auto_now still changes the version.
    tariff_fields: tuple[str, ...]


@dataclass(frozen=True)
class PollingToken:
    """An access token loaded with its grant, the grant's client and premise (`token.grant`,
    `.client`, `.premise`), and the premise's contracts in force by direction."""

    token: AccessToken
    contracts: dict[str, ContractInForce]


def _aware(value: Any) -> Any:
    # SQLite returns naive datetimes (stored in UTC); PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _json(value: Any) -> Any:
    # Django has the drivers hand JSON over as text and decodes it in the field.
    return json.loads(value) if isinstance(value, str | bytes) else value


def _identity(value: Any) -> Any:
    return value


class _Columns:
    """Some columns of a model, in its field order, read from a raw row into a model instance
    the way the ORM would (`Model.from_db`, the field's value conversion, nothing deferred that
    the API reads)."""

    def __init__(self, model: type[models.Model], alias: str, names: tuple[str, ...]) -> None:
        fields = [f for f in model._meta.concrete_fields if f.attname in names]
        if len(fields) != len(names):
            raise ValueError(f"{model.__name__} has no column among {names}")
        self.model = model
        self.attnames = [f.attname for f in fields]
        # Aliased so the names stay unique inside the common table expression below.
        self.sql = ", ".join(f'{alias}."{f.column}" AS {alias}_{f.column}' for f in fields)
        self.convert = [
            _aware
            if isinstance(f, models.DateTimeField)
            else _json
            if isinstance(f, models.JSONField)
            else bool
            if isinstance(f, models.BooleanField)
            else _identity
            for f in fields
        ]

    def __len__(self) -> int:
        return len(self.attnames)

    def instance(self, values: Sequence[Any]) -> Any:
        converted = [c(v) for c, v in zip(self.convert, values, strict=True)]
        return self.model.from_db("default", self.attnames, converted)


_TOKEN = _Columns(
    AccessToken,
    "t",
    ("id", "grant_id", "token_hash", "scope", "created_at", "expires_at", "revoked_at"),
)
_GRANT = _Columns(
    Grant,
    "g",
    ("id", "premise_id", "client_id", "directions", "status", "consent_expires_at", "end_reason"),
)
_CLIENT = _Columns(OAuthClient, "c", ("id", "is_active"))
_PREMISE = _Columns(
    Premise,
    "p",
    (
        "id",
        "reference",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "post_code",
        "country_code",
        "updated_at",
    ),
)

# Plain SQL, not the ORM: compiling a four-join queryset costs more CPU than running it, on the
# most frequent request we serve. Identifiers come from the models; values are parameters.
# The last column is when the supply at the premise ends: the grant's end is checked on this
# query, not on another one (`provider_auth.consent.lifecycle`).
_TOKEN_ONLY_SQL = f"""
SELECT {_TOKEN.sql}, {_GRANT.sql}, {_CLIENT.sql}, {_PREMISE.sql},
       {supply_end_sql(premise_column='g."premise_id"')} AS g_supply_end
FROM "{AccessToken._meta.db_table}" t
JOIN "{Grant._meta.db_table}" g ON g.id = t.grant_id
JOIN "{OAuthClient._meta.db_table}" c ON c.id = g.client_id
JOIN "{Premise._meta.db_table}" p ON p.id = g.premise_id
WHERE t.token_hash = %s
"""  # noqa: S608
# The token's row first, then the contracts in force at the premise it reaches. On PostgreSQL
# the MATERIALIZED fence has the two joins planned apart: two small join problems instead of one
# six-relation search, a third less planning (measured ~0.37 ms → ~0.25 ms of server CPU).
_WITH_CONTRACTS_SQL = """
WITH polling AS {materialized} ({token_only})
SELECT polling.*, {contract_columns}
FROM polling
LEFT JOIN "{contract}" k ON k.premise_id = polling.g_premise_id
     AND k.start_at <= %s AND (k.end_at IS NULL OR k.end_at > %s)
LEFT JOIN "{tariff}" f ON f.id = k.tariff_id
ORDER BY k.start_at, k.id
"""
_CONTRACT_COLUMNS = ", ".join(
    [f'k."{c}"' for c in ("id", "direction", "start_at", "end_at", "updated_at", "tariff_id")]
    + [f'f."{c}"' for c in ("updated_at", "name", "currency", "timezone", "standing_charge")]
)


def _token_with_contracts_sql(vendor: str) -> str:
    return _WITH_CONTRACTS_SQL.format(
        # SQLite plans a CTE on its own already (and knows the keyword only since 3.35).
        materialized="MATERIALIZED" if vendor == "postgresql" else "",
        token_only=_TOKEN_ONLY_SQL,
        contract_columns=_CONTRACT_COLUMNS,
        contract=Contract._meta.db_table,
        tariff=Tariff._meta.db_table,
    )


_SQL_BY_VENDOR: dict[str, str] = {}


def access_token_get_for_polling(*, token_hash: str, at: dt.datetime | None) -> PollingToken | None:
    """The access token stored under `token_hash` with its grant, client and premise, and —
    when `at` is given — the premise's contracts in force at `at` (one per direction: the
    latest-starting, should two ever overlap). One query; None when no such token exists.

    The token is *not* validated here: see `provider_auth.oauth.server.access_token_validate`.
    """
    params: list[Any]
    if at is None:
        sql, params = _TOKEN_ONLY_SQL, [token_hash]
    else:
        sql = _SQL_BY_VENDOR.get(connection.vendor) or _SQL_BY_VENDOR.setdefault(
            connection.vendor, _token_with_contracts_sql(connection.vendor)
        )
        instant = connection.ops.adapt_datetimefield_value(at)
        params = [token_hash, instant, instant]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    row = rows[0]
    i = 0
    parts = []
    for columns in (_TOKEN, _GRANT, _CLIENT, _PREMISE):
        parts.append(columns.instance(row[i : i + len(columns)]))
        i += len(columns)
    token, grant, client, premise = parts
    setattr(grant, SUPPLY_END_ATTR, supply_end_value(row[i]))
    i += 1
    # Fill the relation caches as select_related would.
    Grant.client.field.set_cached_value(grant, client)
    Grant.premise.field.set_cached_value(grant, premise)
    AccessToken.grant.field.set_cached_value(token, grant)
    contracts: dict[str, ContractInForce] = {}
    for row in rows:
        if at is None or row[i] is None:
            continue  # the premise has no contract in force
        pk, direction, start_at, end_at, updated_at, tariff_id = row[i : i + 6]
        contracts[direction] = ContractInForce(  # ordered by start: the latest start wins
            pk=pk,
            direction=direction,
            start_at=_aware(start_at),
            end_at=_aware(end_at),
            updated_at=_aware(updated_at),
            tariff_id=tariff_id,
            tariff_updated_at=_aware(row[i + 6]),
            tariff_fields=tuple(str(v) for v in row[i + 7 : i + 11]),
        )
    return PollingToken(token=token, contracts=contracts)


# --- Query 2 of /api/v1/tariff: the rules of the contract's tariff ---------------------------


def contract_get_with_rules(*, premise: Premise, contract: ContractInForce) -> Contract | None:
    """`contract` as a `Contract` whose tariff and `tariff.rules.all()` are loaded (one query).

    None when the tariff has no rules (no document can be made of it). The tariff may have
    changed since query 1 read its version: compare `tariff.updated_at` before filing the
    document under that version.
    """
    rules = list(TariffRule.objects.select_related("tariff").filter(tariff_id=contract.tariff_id))
    if not rules:
        return None
    tariff = rules[0].tariff
    _rules_cache_fill(tariff, rules)
    built = Contract(
        pk=contract.pk,
        premise=premise,
        tariff=tariff,
        direction=contract.direction,
        start_at=contract.start_at,
        end_at=contract.end_at,
        updated_at=contract.updated_at,
    )
    built._state.adding = False
    built._state.db = "default"
    return built
