"""The tariff API answered from a tariff source other than our own database (e.g. Kraken).

With the default `LocalTariffSource` the views keep their folded poll query (the token, the
contracts in force and their versions in one round trip), which is that source's behaviour with
the query budget kept. With any other source the grant's premise names the supply point (its
reference) and the premise's customer the account (`account_number`); contracts, tariffs and
prices come from the source — from the shared cache while fresh — and are rendered by the same
wire formats, through unsaved model instances, so FlatPeak receives exactly the same shapes.

When the source answers from remembered data (its platform is down), responses say so in the
`Tariff-Source-Stale` header (seconds since the data was fetched). When it cannot answer at all,
a FlatPeak-style 503 with `Retry-After`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone

from accounts.models import Contract, Premise, User
from accounts.prices import PriceSeries
from accounts.sources import tariff_source_is_local
from accounts.sources.base import (
    ContractTerm,
    Freshness,
    SupplyAccountNotFound,
    TariffDefinition,
    TariffSource,
    TariffSourceError,
    TariffSourceMisconfigured,
    TariffSourceUnavailable,
    freshness_scope,
)
from accounts.sources.stand_ins import contract_stand_in
from accounts.tariffs import RateInterval, Tier, tariff_rates_between
from provider_auth.tariff_api import errors
from provider_auth.tariff_api.documents import DOCUMENT_SCHEMA_VERSION

logger = logging.getLogger(__name__)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


STALE_HEADER = "Tariff-Source-Stale"


def source_is_local() -> bool:
    return tariff_source_is_local()


def source_unavailable(retry_after: int | None = None) -> errors.TariffApiError:
    seconds = retry_after or int(getattr(settings, "TARIFF_SOURCE_RETRY_AFTER", 300))
    return errors.TariffApiError(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "tariff_source_unavailable",
        "The provider's billing system cannot be reached; retry after the number of seconds "
        "in Retry-After.",
        type="api_error",
        headers={"Retry-After": str(seconds)},
    )


@contextmanager
def source_answers() -> Iterator[Freshness]:
    """Map the source's typed errors to the API's: no account → no tariff; unavailable or
    misconfigured → 503 with Retry-After (the operator sees the cause in the log)."""
    with freshness_scope() as freshness:
        try:
            yield freshness
        except SupplyAccountNotFound as e:
            raise errors.no_tariff() from e
        except TariffSourceUnavailable as e:
            raise source_unavailable(e.retry_after) from e
        except TariffSourceMisconfigured as e:
            logger.error("The tariff source is misconfigured: %s", e)
            raise source_unavailable() from e
        except TariffSourceError as e:
            logger.warning("The tariff source failed: %s", e)
            raise source_unavailable() from e


def stale_mark(response: HttpResponse, freshness: Freshness) -> HttpResponse:
    if freshness.stale:
        response[STALE_HEADER] = str(freshness.age_seconds(now=timezone.now()))
    return response


@dataclass(frozen=True)
class SourceCustomer:
    """What a tariff source needs of the grant's customer: its key and account number."""

    pk: int
    account_number: str | None


# premise (pk, reference, updated_at) -> (customer, kept until): a poll then costs no query for
# it. Kept seconds only, so a changed account number is followed within them.
_CUSTOMERS: dict[tuple[int, str, str], tuple[SourceCustomer, float]] = {}
_CUSTOMERS_SECONDS = 5.0
_CUSTOMERS_SIZE = 4096
# Identifiers come from the models; the value is a parameter.
_CUSTOMER_SQL = "SELECT u.{uid}, u.{number} FROM {user} u JOIN {premise} p ON p.{customer} = u.{uid} WHERE p.{pid} = %s".format(  # noqa: E501, S608
    uid=_q("id"),
    number=_q("account_number"),
    user=_q(User._meta.db_table),
    premise=_q(Premise._meta.db_table),
    customer=_q("customer_id"),
    pid=_q("id"),
)


def premise_customers_forget() -> None:
    """Forget the remembered customers (tests, whose database ids and pinned clocks repeat)."""
    _CUSTOMERS.clear()


def premise_customer(*, premise: Premise) -> SourceCustomer:
    """The customer owning the grant's premise: the account the source reads (one small query,
    or none within a few seconds of the last)."""
    key = (premise.pk, premise.reference, str(premise.updated_at))
    now = time.monotonic()
    known = _CUSTOMERS.get(key)
    if known is not None and known[1] > now:
        return known[0]
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMER_SQL, [premise.pk])
        row = cursor.fetchone()
    if row is None:
        raise errors.no_tariff()
    customer = SourceCustomer(pk=row[0], account_number=row[1])
    if len(_CUSTOMERS) >= _CUSTOMERS_SIZE:
        _CUSTOMERS.clear()
    _CUSTOMERS[key] = (customer, now + _CUSTOMERS_SECONDS)
    return customer


def contract_model_build(
    *, premise: Premise, contract: ContractTerm, tariff: TariffDefinition
) -> Contract:
    """An unsaved `Contract` with its `Tariff` and rules filled in, for the wire formats."""
    return contract_stand_in(premise=premise, contract=contract, tariff=tariff)


def sourced_document_etag(
    *, premise: Premise, contract: ContractTerm, tariff: TariffDefinition, output: str, scope: str
) -> str:
    """A strong ETag from the source's data versions: the same on every worker and instance."""
    parts = [
        "sourced",
        str(DOCUMENT_SCHEMA_VERSION),
        output,
        scope,
        contract.direction,
        contract.tariff_key,
        contract.version,
        tariff.version,
        str(premise.pk),
        premise.reference,
        *(str(v) for v in premise.postal_address().values()),
        "" if premise.updated_at is None else premise.updated_at.isoformat(),
    ]
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def current_tariff_get(
    *,
    source: TariffSource,
    customer: SourceCustomer,
    premise: Premise,
    direction: str,
    at: dt.datetime,
) -> tuple[ContractTerm, TariffDefinition]:
    contract = source.contract_in_force(
        customer=customer, reference=premise.reference, direction=direction, at=at
    )
    if contract is None:
        raise errors.no_tariff()
    return contract, source.tariff(contract=contract, at=at)


def rate_intervals_between(
    *,
    source: TariffSource,
    customer: SourceCustomer,
    premise: Premise,
    direction: str,
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[list[RateInterval], list[Contract], PriceSeries | None]:
    """The concrete rates of [start, end) across the contracts overlapping it, each tariff as in
    force over its own stretch (a flat rate's announced change splits the stretch); published
    prices only where published. Returns the intervals, the contracts as stand-in models (the
    wire format reads the last one's currency and time zone) and the last price series."""
    contracts = source.contracts_overlapping(
        customer=customer, reference=premise.reference, direction=direction, start=start, end=end
    )
    if not contracts:
        raise errors.no_tariff()
    intervals: list[RateInterval] = []
    stand_ins: list[Contract] = []
    series: PriceSeries | None = None
    for contract in contracts:
        cursor = max(start, contract.start_at)
        stop = min(end, contract.end_at) if contract.end_at else end
        while cursor < stop:
            tariff = source.tariff(contract=contract, at=cursor)
            piece_end = stop
            if tariff.valid_until is not None and cursor < tariff.valid_until < stop:
                piece_end = tariff.valid_until
            if tariff.pricing == "schedule":
                intervals += tariff_rates_between(
                    # Frozen rules read like TariffRule's fields (RuleLike spells them mutable).
                    rules=tariff.rules,  # type: ignore[arg-type]
                    timezone=tariff.timezone,
                    start=cursor,
                    end=piece_end,
                )
            else:
                series = source.prices_between(contract=contract, start=cursor, end=piece_end)
                intervals += [
                    RateInterval(
                        start=p.valid_from,
                        end=p.valid_to,
                        unit_rate=Decimal(p.rate),
                        tiers=(Tier(to_kwh=None, unit_rate=Decimal(p.rate)),),
                    )
                    for p in series.intervals
                ]
            stand_ins.append(contract_stand_in(premise=premise, contract=contract, tariff=tariff))
            cursor = piece_end
    return intervals, stand_ins, series


__all__ = [
    "STALE_HEADER",
    "contract_model_build",
    "current_tariff_get",
    "SourceCustomer",
    "premise_customer",
    "premise_customers_forget",
    "rate_intervals_between",
    "source_answers",
    "source_is_local",
    "source_unavailable",
    "sourced_document_etag",
    "stale_mark",
]
