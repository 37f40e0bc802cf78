"""Hand-written SQL of the tariff poll path: the bearer token with its grant, client and premise,
and the premise's contracts in force, in one query.

Why by hand: this is the query of every request FlatPeak makes, and Django spends several times
its run time compiling the equivalent queryset (joins through `select_related` and a
`FilteredRelation`) and building the instances — measured with
`benchmarks/tariff_service_time.py`, see "Hand-written SQL: what it saves" in
`docs/performance.md`. Everything else on the path uses the ORM.

Rules that keep it honest: every table and column name comes from the models' `_meta` (a
renamed field or table changes the SQL with it); values are parameters, never formatted in;
rows become model instances holding what the ORM's would (`Model.from_db` after each field's
conversion, or its result built directly), and `tests/provider_auth/tariff_api/test_sql.py`
checks them field for field against the ORM's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from accounts.models import (
    Contract,
    Premise,
    PricePublication,
    Pricing,
    PublishedPrice,
    Tariff,
    TariffRule,
    User,
    WholesalePrice,
)
from provider_auth.consent.lifecycle import SUPPLY_END_ATTR, supply_end_sql, supply_end_value
from provider_auth.oauth.models import AccessToken, Grant, OAuthClient
from provider_auth.tariff_api.prepared import prepared_rows


def _q(name: str) -> str:
    # Standard SQL quoting, which both PostgreSQL and SQLite accept.
    return f'"{name}"'


def _table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


def _column(model: type[models.Model], name: str, *, quoted: bool = True) -> str:
    field = model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{name} has no column")
    return _q(column) if quoted else column


def _aware(value: Any) -> Any:
    # SQLite returns naive datetimes (stored in UTC); PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _datetime(value: Any) -> Any:
    # An aggregate's type is not known to the SQLite driver: MAX() of a datetime comes as text.
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def _decimal_or_none(value: Any) -> Any:
    # SQLite hands a decimal column over as a float (or int): its shortest repr is the stored
    # decimal (at most 12 significant digits), so nothing is rounded.
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value))


def _decimal_field(places: int | None) -> Any:
    # As the ORM reads a DecimalField on SQLite: at the field's scale (0.45 → 0.4500), so a value
    # prints the same whichever way it was read (versions are digests of printed values).
    exponent = Decimal(1).scaleb(-places) if places is not None else None

    def convert(value: Any) -> Any:
        value = _decimal_or_none(value)
        if value is None or exponent is None:
            return value
        return value.quantize(exponent)

    return convert


def _time(value: Any) -> Any:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


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
        # Whether the model's own `__init__`/`from_db`, or a receiver of its init signals, must
        # see each instance; known once the app registry has connected every receiver, so
        # asked on first use.
        self._needs_init: bool | None = None
        # Aliased so the names stay unique inside the common table expression below.
        self.sql = ", ".join(f"{alias}.{_q(f.column)} AS {alias}_{f.column}" for f in fields)
        self.convert = [
            _aware
            if isinstance(f, models.DateTimeField)
            else _decimal_field(f.decimal_places)
            if isinstance(f, models.DecimalField)
            else _time
            if isinstance(f, models.TimeField)
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
        if self._needs_init is None:
            self._needs_init = (
                self.model.__init__ is not models.Model.__init__
                or self.model.from_db.__func__ is not models.Model.from_db.__func__  # type: ignore[attr-defined]
                or pre_init.has_listeners(self.model)
                or post_init.has_listeners(self.model)
            )
        if self._needs_init:
            return self.model.from_db("default", self.attnames, converted)
        # What `from_db` leaves behind, without walking every field of the model: the loaded
        # attributes in `__dict__`, the rest deferred (absent), the state of a fetched row.
        # Django's `__init__` adds only its init signals, which this model has no receiver of.
        instance = self.model.__new__(self.model)
        state = instance._state = ModelState()
        state.adding = False
        state.db = "default"
        instance.__dict__.update(zip(self.attnames, converted, strict=True))
        return instance

    def values(self, values: Sequence[Any]) -> SimpleNamespace:
        """The row's values under the fields' attribute names, converted as `instance` does, with
        `pk` — without building a model (a tenth of the cost, on a path that only reads)."""
        converted = {
            name: c(v) for name, c, v in zip(self.attnames, self.convert, values, strict=True)
        }
        return SimpleNamespace(pk=converted.get("id"), **converted)


TOKEN = _Columns(
    AccessToken,
    "t",
    ("id", "grant_id", "token_hash", "scope", "created_at", "expires_at", "revoked_at"),
)
GRANT = _Columns(
    Grant,
    "g",
    ("id", "premise_id", "client_id", "directions", "status", "consent_expires_at", "end_reason"),
)
CLIENT = _Columns(OAuthClient, "c", ("id", "is_active"))
PREMISE = _Columns(
    Premise,
    "p",
    (
        "id",
        "customer_id",
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
CONTRACT_FIELDS = ("id", "direction", "start_at", "end_at", "updated_at", "tariff")
# Everything of the tariff its document's version depends on besides the rules (stored values).
TARIFF_FIELDS = (
    "updated_at",
    "name",
    "currency",
    "timezone",
    "standing_charge",
    "pricing",
    "prices_include_vat",
    "bidding_zone",
)
# The publication tag of a priced tariff's series — days, summed versions and newest
# publication as one opaque text ("3.4.2026-01-14 16:05:00+00") — read beside its contract so
# that a new or re-published day of prices moves the ETag and a 304 stays one query. One
# column, not four: every subquery is planned with the query, schedule tariffs' included (four
# aggregates cost the schedule's 304 a tenth of a millisecond while it was planned per poll). A schedule tariff evaluates
# neither branch of the CASE; each branch walks one partial unique index of the publications,
# (tariff, region, day) or (zone, day).
PUBLICATION_TAG = (
    "COUNT(*) || '.' || COALESCE(SUM({version}), 0) || '.' "
    "|| COALESCE(CAST(MAX({published_at}) AS TEXT), '')"
)


def _join(alias: str, model: type[models.Model], on: str) -> str:
    return f"JOIN {_table(model)} {alias} ON {on}"


# The last column is when the supply at the premise ends: a grant's end is checked on this
# query, not on another one (`provider_auth.consent.lifecycle`).
TOKEN_ONLY_SQL = f"""
SELECT {TOKEN.sql}, {GRANT.sql}, {CLIENT.sql}, {PREMISE.sql},
       {supply_end_sql(premise_column=f"g.{_column(Grant, 'premise')}")} AS g_supply_end
FROM {_table(AccessToken)} t
{_join("g", Grant, f"g.{_column(Grant, 'id')} = t.{_column(AccessToken, 'grant')}")}
{_join("c", OAuthClient, f"c.{_column(OAuthClient, 'id')} = g.{_column(Grant, 'client')}")}
{_join("p", Premise, f"p.{_column(Premise, 'id')} = g.{_column(Grant, 'premise')}")}
WHERE t.{_column(AccessToken, "token_hash")} = %s
"""  # noqa: S608 (identifiers from the models; the value is a parameter)

# The token's row first, then the contracts in force at the premise it reaches. On PostgreSQL
# the MATERIALIZED fence has the two joins planned apart: two small join problems instead of one
# six-relation search, a third less planning (measured ~0.37 ms → ~0.25 ms of server CPU). Once
# the statement is prepared (`prepared.py`) the fence neither costs nor saves anything
# measurable; it keeps the unprepared case (DB_PREPARE_POLL_QUERY=false) cheaper.
# The "in force" condition is `accounts.models.contract_in_force_q` written out.
_WITH_CONTRACTS_SQL = """
WITH polling AS {materialized} ({token_only})
SELECT polling.*, {contract_columns}
FROM polling
LEFT JOIN {contract} k ON k.{k_premise} = polling.g_{g_premise}
     AND k.{k_start} <= %s AND (k.{k_end} IS NULL OR k.{k_end} > %s)
LEFT JOIN {tariff} f ON f.{f_id} = k.{k_tariff}
ORDER BY k.{k_start}, k.{k_id}
"""


def _publication_column(aggregate: str) -> str:
    table = _table(PricePublication)
    expression = aggregate.format(
        version=f"pp.{_column(PricePublication, 'version')}",
        published_at=f"pp.{_column(PricePublication, 'published_at')}",
    )
    tariff_id = f"pp.{_column(PricePublication, 'tariff')}"
    # The pricing values are our own constants (TextChoices), never user input.
    return (
        f"CASE f.{_column(Tariff, 'pricing')} "  # noqa: S608 (identifiers, our own constants)
        f"WHEN '{Pricing.PUBLISHED.value}' THEN (SELECT {expression} FROM {table} pp "
        f"WHERE {tariff_id} = f.{_column(Tariff, 'id')} "
        f"AND pp.{_column(PricePublication, 'region')} = '') "
        f"WHEN '{Pricing.MARKET_INDEXED.value}' THEN (SELECT {expression} FROM {table} pp "
        f"WHERE {tariff_id} IS NULL "
        f"AND pp.{_column(PricePublication, 'zone')} = f.{_column(Tariff, 'bidding_zone')}) "
        "END"
    )


_CONTRACT_COLUMNS = ", ".join(
    [f"k.{_column(Contract, name)}" for name in CONTRACT_FIELDS]
    + [f"f.{_column(Tariff, name)}" for name in TARIFF_FIELDS]
    + [_publication_column(PUBLICATION_TAG)]
)


def _token_with_contracts_sql(vendor: str) -> str:
    return _WITH_CONTRACTS_SQL.format(
        # SQLite plans a CTE on its own already (and knows the keyword only since 3.35).
        materialized="MATERIALIZED" if vendor == "postgresql" else "",
        token_only=TOKEN_ONLY_SQL,
        contract_columns=_CONTRACT_COLUMNS,
        contract=_table(Contract),
        tariff=_table(Tariff),
        k_premise=_column(Contract, "premise"),
        g_premise=_column(Grant, "premise", quoted=False),
        k_start=_column(Contract, "start_at"),
        k_end=_column(Contract, "end_at"),
        k_tariff=_column(Contract, "tariff"),
        k_id=_column(Contract, "id"),
        f_id=_column(Tariff, "id"),
    )


_SQL_BY_VENDOR: dict[str, str] = {}


class ContractRow(NamedTuple):
    """A contract in force as the poll query reads it, with its tariff's versioned fields."""

    pk: int
    direction: str
    start_at: dt.datetime
    end_at: dt.datetime | None
    updated_at: dt.datetime
    tariff_id: int
    tariff_updated_at: dt.datetime
    # name, currency, timezone, standing charge, pricing, VAT flag, bidding zone, as text
    tariff_fields: tuple[str, ...]
    pricing: str
    # The publication tag of a priced tariff's series (see PUBLICATION_TAG); None for a
    # schedule tariff.
    publication_tag: str | None


def polling_token_fetch(
    *, token_hash: str, at: dt.datetime | None
) -> tuple[AccessToken, list[ContractRow]] | None:
    """The access token stored under `token_hash`, its `grant`, `grant.client` and
    `grant.premise` loaded, and — when `at` is given — the premise's contracts in force at `at`,
    oldest start first. One query; None when no such token exists."""
    params: list[Any]
    if at is None:
        query, params = TOKEN_ONLY_SQL, [token_hash]
    else:
        query = _SQL_BY_VENDOR.get(connection.vendor) or _SQL_BY_VENDOR.setdefault(
            connection.vendor, _token_with_contracts_sql(connection.vendor)
        )
        instant = connection.ops.adapt_datetimefield_value(at)
        params = [token_hash, instant, instant]
    # Prepared on PostgreSQL: planning it cost several times running it.
    rows = prepared_rows(query, params)
    if not rows:
        return None
    row = rows[0]
    i = 0
    parts = []
    for columns in (TOKEN, GRANT, CLIENT, PREMISE):
        parts.append(columns.instance(row[i : i + len(columns)]))
        i += len(columns)
    token, grant, client, premise = parts
    setattr(grant, SUPPLY_END_ATTR, supply_end_value(row[i]))
    i += 1
    # Fill the relation caches as select_related would.
    Grant.client.field.set_cached_value(grant, client)
    Grant.premise.field.set_cached_value(grant, premise)
    AccessToken.grant.field.set_cached_value(token, grant)
    contracts: list[ContractRow] = []
    for row in rows:
        if at is None or row[i] is None:
            continue  # the premise has no contract in force
        pk, direction, start_at, end_at, updated_at, tariff_id = row[i : i + 6]
        fields = row[i + 7 : i + 7 + len(TARIFF_FIELDS) - 1]
        publication_tag = row[i + 6 + len(TARIFF_FIELDS)]
        contracts.append(
            ContractRow(
                pk=pk,
                direction=direction,
                start_at=_aware(start_at),
                end_at=_aware(end_at),
                updated_at=_aware(updated_at),
                tariff_id=tariff_id,
                tariff_updated_at=_aware(row[i + 6]),
                # The VAT flag as Python spells it on every backend (SQLite stores 1/0).
                tariff_fields=tuple(
                    str(bool(v)) if name == "prices_include_vat" else str(v)
                    for name, v in zip(TARIFF_FIELDS[1:], fields, strict=True)
                ),
                pricing=fields[4],
                publication_tag=None if publication_tag is None else str(publication_tag),
            )
        )
    return token, contracts


# --- A billing-platform source's customer: whose account a premise's tariff is read from ---

_PREMISE_CUSTOMER_SQL = f"""
SELECT u.{_column(User, "id")}, u.{_column(User, "account_number")}
FROM {_table(User)} u
JOIN {_table(Premise)} p ON p.{_column(Premise, "customer")} = u.{_column(User, "id")}
WHERE p.{_column(Premise, "id")} = %s
"""  # noqa: S608 (identifiers from the models; the value is a parameter)


def premise_customer_fetch(*, premise_id: int) -> tuple[int, str | None] | None:
    """The id and account number of the customer owning premise `premise_id` (None: no such
    premise). One query."""
    with connection.cursor() as cursor:
        cursor.execute(_PREMISE_CUSTOMER_SQL, [premise_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


# --- The rates of a published or market-indexed tariff: its price rows and its series' state --

# One query per priced contract of a range: the publication state (one row of aggregates over
# the partial unique index of its publications), then the price rows that one index range scan
# finds (a range without prices still returns the state). Price times come as whole seconds
# since the epoch: turning 1,344 timestamps of 7 days of quarter hours into datetimes through
# the driver's ISO parser cost more than everything else in the request.
# By hand for the same reason as the poll query: the ORM's version (aggregate subqueries) costs
# milliseconds of compilation per request, the whole budget of the rates target.
_SERIES_SQL = """
SELECT 0 AS k, COUNT(*), SUM(pp.{version}), MAX(pp.{published_at}), MAX(pp.{pub_valid_to}),
       NULL, NULL, NULL
FROM {publication} pp WHERE {publication_filter}
UNION ALL
SELECT 1, NULL, NULL, NULL, NULL, {epoch_from}, {epoch_to}, {value}
FROM {prices} WHERE {price_filter} AND {valid_from} >= %s AND {valid_from} < %s
ORDER BY 1, 6
"""


def _epoch(column: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _series_sql(pricing: str, vendor: str) -> str:
    publication_tariff = _column(PricePublication, "tariff")
    if pricing == Pricing.PUBLISHED:
        model: type[models.Model] = PublishedPrice
        publication_filter = (
            f"pp.{publication_tariff} = %s AND pp.{_column(PricePublication, 'region')} = %s"
        )
        price_filter = (
            f"{_column(PublishedPrice, 'tariff')} = %s AND {_column(PublishedPrice, 'region')} = %s"
        )
        value = _column(PublishedPrice, "value")
    else:
        model = WholesalePrice
        publication_filter = (
            f"pp.{publication_tariff} IS NULL AND pp.{_column(PricePublication, 'zone')} = %s"
        )
        price_filter = (
            f"{_column(WholesalePrice, 'zone')} = %s AND {_column(WholesalePrice, 'currency')} = %s"
        )
        value = _column(WholesalePrice, "price")
    return _SERIES_SQL.format(
        version=_column(PricePublication, "version"),
        published_at=_column(PricePublication, "published_at"),
        pub_valid_to=_column(PricePublication, "valid_to"),
        publication=_table(PricePublication),
        publication_filter=publication_filter,
        valid_from=_column(model, "valid_from"),
        epoch_from=_epoch(_column(model, "valid_from"), vendor),
        epoch_to=_epoch(_column(model, "valid_to"), vendor),
        value=value,
        prices=_table(model),
        price_filter=price_filter,
    )


_SERIES_BY_VENDOR: dict[tuple[str, str], str] = {}


def _decimal(value: Any) -> Decimal:
    converted: Decimal = _decimal_or_none(value)
    return converted


def price_series_fetch(
    *,
    pricing: str,
    tariff_id: int,
    zone: str,
    currency: str,
    start: dt.datetime,
    end: dt.datetime,
    region: str = "",
) -> tuple[
    tuple[int, int, dt.datetime | None, dt.datetime | None],
    list[tuple[dt.datetime, dt.datetime, Decimal]],
]:
    """The publication state (days, versions, last published, published until) of a priced
    tariff's series and its (valid_from, valid_to, value) rows starting in [start, end) — the
    tariff's own prices (`pricing` published), or its zone's wholesale prices per MWh in its
    currency (market-indexed). One query."""
    adapt = connection.ops.adapt_datetimefield_value
    if pricing == Pricing.PUBLISHED:
        params: list[Any] = [tariff_id, region, tariff_id, region]
    else:
        params = [zone, zone, currency]
    params += [adapt(start), adapt(end)]
    key = (pricing, connection.vendor)
    query = _SERIES_BY_VENDOR.get(key) or _SERIES_BY_VENDOR.setdefault(
        key, _series_sql(pricing, connection.vendor)
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        found = cursor.fetchall()
    _k, days, versions, last, until = found[0][:5]
    state = (days or 0, versions or 0, _aware(_datetime(last)), _aware(_datetime(until)))
    instant = dt.datetime.fromtimestamp
    rows = [
        (instant(vf, dt.UTC), instant(vt, dt.UTC), _decimal(v)) for *_state, vf, vt, v in found[1:]
    ]
    return state, rows


# --- The columns of a range's contracts, tariffs and rules (query 2 of the rates) ------------

RANGE_CONTRACT = _Columns(Contract, "k", ("id", "start_at", "end_at", "updated_at"))
RANGE_TARIFF = _Columns(Tariff, "f", tuple(f.attname for f in Tariff._meta.concrete_fields))
RANGE_RULE = _Columns(TariffRule, "r", tuple(f.attname for f in TariffRule._meta.concrete_fields))


class RangeContract(NamedTuple):
    """A contract overlapping a range, its tariff and the tariff's rules, as read by
    `contracts_with_series_fetch`: attribute bags named like the models' fields."""

    contract: SimpleNamespace
    tariff: SimpleNamespace
    rules: list[SimpleNamespace]


# --- The versions of a range's rates in one query: contracts, tariffs, rules, series states ----

# The contracts overlapping a range (`accounts.models.contract_overlapping_q` written out, for
# end > start) with their tariffs and rules and, in the same round trip, the publication state
# of every published or market-indexed tariff's series among them (its own, its zone's): everything
# a rates body is made of except the price rows, so a body already written is known to hold
# without reading them (`sourced.rates_body_key`). Part 0 of the UNION fills the contract, tariff
# and rule columns, part 1 a series' state (COUNT, SUM(version), newest publication, published
# until), each NULL where the other's are. A series is named by its tariff id (published) or its
# zone (market-indexed).
_RANGE_WITH_SERIES_SQL = """
WITH o AS (
  SELECT k.{k_id} AS cid, f.{f_id} AS tid, f.{f_pricing} AS pricing, f.{f_zone} AS zone
  FROM {contract} k JOIN {tariff} f ON f.{f_id} = k.{k_tariff}
  WHERE k.{k_premise} = %s AND k.{k_direction} = %s AND k.{k_start} < %s
    AND (k.{k_end} IS NULL OR k.{k_end} > %s)
)
SELECT 0 AS part, NULL AS s_tariff, NULL AS s_zone, {range_columns},
       NULL AS s_days, NULL AS s_versions, NULL AS s_last, NULL AS s_until
FROM o JOIN {contract} k ON k.{k_id} = o.cid
JOIN {tariff} f ON f.{f_id} = o.tid
JOIN {rule} r ON r.{r_tariff} = o.tid
UNION ALL
SELECT 1, pp.{pp_tariff}, NULL, {no_range}, COUNT(*), SUM(pp.{pp_version}),
       MAX(pp.{pp_published_at}), MAX(pp.{pp_valid_to})
FROM {publication} pp
WHERE pp.{pp_region} = '' AND pp.{pp_tariff} IN (SELECT tid FROM o WHERE pricing = '{published}')
GROUP BY pp.{pp_tariff}
UNION ALL
SELECT 1, NULL, pp.{pp_zone}, {no_range}, COUNT(*), SUM(pp.{pp_version}),
       MAX(pp.{pp_published_at}), MAX(pp.{pp_valid_to})
FROM {publication} pp
WHERE pp.{pp_tariff} IS NULL AND pp.{pp_zone} IN (SELECT zone FROM o WHERE pricing = '{market}')
GROUP BY pp.{pp_zone}
ORDER BY 1, {order_start}, {order_rule}
"""


def _range_with_series_sql() -> str:
    first = 4  # part, s_tariff, s_zone come first; columns are numbered from 1
    return _RANGE_WITH_SERIES_SQL.format(
        range_columns=f"{RANGE_CONTRACT.sql}, {RANGE_TARIFF.sql}, {RANGE_RULE.sql}",
        no_range=", ".join(["NULL"] * (len(RANGE_CONTRACT) + len(RANGE_TARIFF) + len(RANGE_RULE))),
        contract=_table(Contract),
        tariff=_table(Tariff),
        rule=_table(TariffRule),
        publication=_table(PricePublication),
        k_id=_column(Contract, "id"),
        k_tariff=_column(Contract, "tariff"),
        k_premise=_column(Contract, "premise"),
        k_direction=_column(Contract, "direction"),
        k_start=_column(Contract, "start_at"),
        k_end=_column(Contract, "end_at"),
        f_id=_column(Tariff, "id"),
        f_pricing=_column(Tariff, "pricing"),
        f_zone=_column(Tariff, "bidding_zone"),
        r_tariff=_column(TariffRule, "tariff"),
        pp_tariff=_column(PricePublication, "tariff"),
        pp_region=_column(PricePublication, "region"),
        pp_zone=_column(PricePublication, "zone"),
        pp_version=_column(PricePublication, "version"),
        pp_published_at=_column(PricePublication, "published_at"),
        pp_valid_to=_column(PricePublication, "valid_to"),
        # The pricing values are our own constants (TextChoices), never user input.
        published=Pricing.PUBLISHED.value,
        market=Pricing.MARKET_INDEXED.value,
        # ORDER BY positions: the contract's start, the rule's id.
        order_start=first + RANGE_CONTRACT.attnames.index("start_at"),
        order_rule=first
        + len(RANGE_CONTRACT)
        + len(RANGE_TARIFF)
        + RANGE_RULE.attnames.index("id"),
    )


RANGE_WITH_SERIES_SQL = _range_with_series_sql()

SeriesState = tuple[int, int, dt.datetime | None, dt.datetime | None]


class RangeWithSeries(NamedTuple):
    """What `contracts_with_series_fetch` reads: the contracts with tariffs and rules, and the
    state of each priced one's series by key (a tariff's id, or a zone)."""

    contracts: list[RangeContract]
    states: dict[int | str, SeriesState]


def contracts_with_series_fetch(
    *, premise_id: int, direction: str, start: dt.datetime, end: dt.datetime
) -> RangeWithSeries:
    """The contracts of a premise in `direction` overlapping [start, end) (end > start), oldest
    first, each with its tariff's fields and rules, and the series state of its published and
    market-indexed tariffs. One query; the hand-written twin of
    `selectors.contract_list_overlapping` (the ORM's compilation of that query, and the model
    instances, were most of the cost of a rates request)."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(RANGE_WITH_SERIES_SQL, [premise_id, direction, adapt(end), adapt(start)])
        found = cursor.fetchall()
    contracts: dict[int, RangeContract] = {}
    states: dict[int | str, SeriesState] = {}
    n_contract, n_tariff = len(RANGE_CONTRACT), len(RANGE_TARIFF)
    n_range = n_contract + n_tariff + len(RANGE_RULE)
    for row in found:
        if row[0] == 0:
            values = row[3 : 3 + n_range]
            entry = contracts.get(values[0])
            if entry is None:
                entry = contracts[values[0]] = RangeContract(
                    contract=RANGE_CONTRACT.values(values[:n_contract]),
                    tariff=RANGE_TARIFF.values(values[n_contract : n_contract + n_tariff]),
                    rules=[],
                )
            entry.rules.append(RANGE_RULE.values(values[n_contract + n_tariff :]))
        else:
            days, versions, last, until = row[3 + n_range :]
            states[row[1] if row[1] is not None else row[2]] = (
                days or 0,
                versions or 0,
                _aware(_datetime(last)),
                _aware(_datetime(until)),
            )
    return RangeWithSeries(contracts=list(contracts.values()), states=states)
