"""Where tariffs come from: the interface every tariff source implements, and its values.

The connect flow, the tariff API, the account pages and the chart ask a `TariffSource` (the
class named by the `TARIFF_SOURCE` setting) for a customer's supply points, the contract in
force, the contracts overlapping a period and the tariff of a contract. `LocalTariffSource`
answers from our own database; an adapter answers from the provider's billing platform.

Values are plain frozen dataclasses in our own tariff model (major currency units, exact
`Decimal`s, aware UTC datetimes), so nothing downstream knows which source answered. A source
that serves a remembered answer because its platform is unreachable says so through
`freshness_note_stale`; the caller reads it in a `freshness_scope` (e.g. to add a header).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from accounts.prices import PriceSeries

IMPORT = "IMPORT"
EXPORT = "EXPORT"
DIRECTIONS = (IMPORT, EXPORT)
PRICINGS = ("schedule", "published", "market_indexed")


# --- Errors -----------------------------------------------------------------------------------


class TariffSourceError(Exception):
    """Anything a tariff source could not answer."""


class TariffSourceUnavailable(TariffSourceError):
    """The platform is down, slow or answered nonsense: worth trying again later."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TariffSourceMalformed(TariffSourceUnavailable):
    """The platform answered, but not in a shape we understand (a schema change, a bug)."""


class TariffSourceMisconfigured(TariffSourceError):
    """Our side is wrong (credentials refused, a base URL that is not the platform): an operator
    must act; retrying does not help."""


class SupplyAccountNotFound(TariffSourceError):
    """The source knows no account for this customer (or the customer has no account number)."""


# --- Values -----------------------------------------------------------------------------------


class CustomerLike(Protocol):
    """What a source needs of our customer record: its key and the platform's account number."""

    @property
    def pk(self) -> Any: ...

    @property
    def account_number(self) -> str | None: ...


@dataclass(frozen=True)
class PostalAddress:
    """An address exactly in FlatPeak's `postal_address` fields."""

    address_line1: str
    address_line2: str
    city: str
    state: str
    post_code: str
    country_code: str

    def as_dict(self) -> dict[str, str]:
        return {
            "address_line1": self.address_line1,
            "address_line2": self.address_line2,
            "city": self.city,
            "state": self.state,
            "post_code": self.post_code,
            "country_code": self.country_code,
        }

    @property
    def one_line(self) -> str:
        parts = (self.address_line1, self.address_line2, self.city, self.post_code)
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class SupplyPoint:
    """One metered connection of an account in one direction.

    `reference` names the place (the same for its import and export meter points);
    `meter_point_number` is the MPAN, EAN or whatever the market calls it ("" when unknown).
    """

    reference: str
    address: PostalAddress
    direction: str
    meter_point_number: str


@dataclass(frozen=True)
class ContractTerm:
    """A supply point's tariff in one direction for a period (`end_at` exclusive, None = open).

    `tariff_key` identifies the tariff in the source (a tariff code, our tariff's id);
    `version` changes whenever anything of the contract changes (for ETags). `tariff_version`:
    the version of the tariff in force now and of its published prices, when the source read
    it with the contract ("" when not: ask `tariff` and `prices_between`), so a poll that
    changed nothing is answered without them. `updated_at`: when the source last changed the
    contract, None when it does not say.
    """

    supply_point_reference: str
    direction: str
    start_at: dt.datetime
    end_at: dt.datetime | None
    tariff_key: str
    version: str
    tariff_version: str = ""
    updated_at: dt.datetime | None = None

    def in_force_at(self, at: dt.datetime) -> bool:
        return self.start_at <= at and (self.end_at is None or at < self.end_at)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start_at < end and (self.end_at is None or self.end_at > start)


@dataclass(frozen=True)
class RateRule:
    """A schedule rule, with the attribute names of `accounts.models.TariffRule` so the tariff
    arithmetic (`accounts.tariffs`, `accounts.prices`) reads it unchanged (lists, as the JSON
    fields hold them)."""

    months: list[int]
    weekdays: list[int]
    valid_from: str
    valid_to: str
    unit_rate: Decimal
    tier_to_kwh: Decimal | None = None
    surcharge_fixed: Decimal = Decimal(0)
    surcharge_percentage: Decimal = Decimal(0)


class RuleSet(tuple[RateRule, ...]):
    """The rules of a tariff; `.all()` like a related manager, so code written for a `Tariff`
    (`tariff.rules.all()`) reads a `TariffDefinition` too."""

    def all(self) -> RuleSet:
        return self


@dataclass(frozen=True)
class TariffDefinition:
    """A tariff in our model, as in force at the instant it was asked for.

    `pricing` is one of PRICINGS: `schedule` tariffs price every instant by `rules`; the prices
    of `published` and `market_indexed` ones come from the source's `prices_between`.
    `valid_until` is when this definition may stop being right (a price change the source
    announced), None when unknown. `version` changes whenever anything here changes;
    `updated_at` is when the source last changed it (None when it does not say).
    `prices_publish_time`: when a priced tariff's next-day prices usually appear, local time
    (None: the server's `PRICES_PUBLISH_TIME`), which sets `next_update`.
    """

    key: str
    name: str
    currency: str
    timezone: str
    pricing: str
    prices_include_vat: bool
    standing_charge: Decimal
    rules: RuleSet = field(default_factory=RuleSet)
    bidding_zone: str = ""
    region: str = ""
    valid_until: dt.datetime | None = None
    version: str = ""
    updated_at: dt.datetime | None = None
    prices_publish_time: dt.time | None = None


def data_version(value: Any) -> str:
    """A short, stable digest of JSON-able data: the same on every worker and instance."""
    payload = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


# --- The interface ----------------------------------------------------------------------------


@runtime_checkable
class TariffSource(Protocol):
    """Where supply points, contracts and tariffs come from.

    Every method is a read; it raises `SupplyAccountNotFound`, `TariffSourceUnavailable` (incl.
    `TariffSourceMalformed`) or `TariffSourceMisconfigured`, never anything else on a platform
    problem. Datetimes in and out are aware.
    """

    def supply_points(self, *, customer: CustomerLike) -> list[SupplyPoint]:
        """The customer's supply points, one per place and direction, sorted by reference."""
        ...

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        """The contract of a supply point in `direction` in force at `at` (None: none)."""
        ...

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        """The contracts overlapping [start, end), oldest first."""
        ...

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        """The contract's tariff as in force at `at`."""
        ...

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        """The known prices of a published or market-indexed tariff over [start, end): never
        invented, cut to what is published (see `accounts.prices.PriceSeries`)."""
        ...


PROTOCOL_METHODS = (
    "supply_points",
    "contract_in_force",
    "contracts_overlapping",
    "tariff",
    "prices_between",
)


# --- Freshness --------------------------------------------------------------------------------


@dataclass
class Freshness:
    """What a scope of source calls was answered with: `stale_since` is when the oldest
    remembered answer served instead of a live one was fetched (None: all live or fresh)."""

    stale_since: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    def age_seconds(self, *, now: dt.datetime) -> int:
        if self.stale_since is None:
            return 0
        return max(0, int((now - self.stale_since).total_seconds()))


_freshness: contextvars.ContextVar[Freshness | None] = contextvars.ContextVar(
    "tariff_source_freshness", default=None
)


class freshness_scope:  # noqa: N801 (used like a function: `with ...() as freshness`)
    """Collect whether the source calls made inside were answered from stale data:
    `with freshness_scope() as freshness: ...` (a class, not a generator: it wraps every
    tariff API request)."""

    __slots__ = ("_token", "freshness")

    def __enter__(self) -> Freshness:
        self.freshness = Freshness()
        self._token = _freshness.set(self.freshness)
        return self.freshness

    def __exit__(self, *exc: object) -> None:
        _freshness.reset(self._token)


def freshness_note_stale(*, fetched_at: dt.datetime) -> None:
    """A source served a remembered answer fetched at `fetched_at` (its platform was down)."""
    freshness = _freshness.get()
    if freshness is None:
        return
    if freshness.stale_since is None or fetched_at < freshness.stale_since:
        freshness.stale_since = fetched_at


__all__ = [
    "DIRECTIONS",
    "PROTOCOL_METHODS",
    "ContractTerm",
    "CustomerLike",
    "Freshness",
    "PostalAddress",
    "RateRule",
    "RuleSet",
    "SupplyAccountNotFound",
    "SupplyPoint",
    "TariffDefinition",
    "TariffSource",
    "TariffSourceError",
    "TariffSourceMalformed",
    "TariffSourceMisconfigured",
    "TariffSourceUnavailable",
    "data_version",
    "freshness_note_stale",
    "freshness_scope",
]
