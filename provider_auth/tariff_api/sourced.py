"""The tariff API's reads through the configured tariff source (`accounts.sources`).

Every request asks the source the same questions, whichever it is: the contract in force, the
contracts overlapping a range, a contract's tariff, a tariff's prices. The grant's premise names
the supply point (its reference) and the premise's customer the account. With our own database
as the source, one request's source is a `PollingLocalTariffSource` that answers from what
query 1 already read (`local_source`); any other source answers from its platform or from the
shared cache while fresh. Either way the answers become unsaved model instances
(`accounts.sources.stand_ins`) for the same wire formats, so FlatPeak receives the same shapes.

When the source answers from remembered data (its platform is down), responses say so in the
`Tariff-Source-Stale` header (seconds since the data was fetched). When it cannot answer at all,
a FlatPeak-style 503 with `Retry-After`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

from accounts.models import Premise
from accounts.price_selectors import tariff_publish_time
from accounts.prices import PriceSeries, next_update_at
from accounts.sources import tariff_source, tariff_source_is_local
from accounts.sources.base import (
    ContractTerm,
    CustomerLike,
    Freshness,
    SupplyAccountNotFound,
    TariffDefinition,
    TariffSource,
    TariffSourceError,
    TariffSourceMisconfigured,
    TariffSourceUnavailable,
    freshness_scope,
)
from accounts.tariffs import RateInterval, Tier, tariff_rates_between
from provider_auth.tariff_api import errors, sql
from provider_auth.tariff_api.documents import DOCUMENT_SCHEMA_VERSION, document_withheld
from provider_auth.tariff_api.local_source import PollingLocalTariffSource
from provider_auth.tariff_api.selectors import PollingToken

logger = logging.getLogger(__name__)


STALE_HEADER = "Tariff-Source-Stale"
# The range asked of a priced tariff's source for its document: its series' state comes with
# any range, the shorter the fewer rows.
SHORTEST_RANGE = dt.timedelta(minutes=15)


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


class source_answers:  # noqa: N801 (used like a function: `with ...() as freshness`)
    """Map the source's typed errors to the API's: no account → no tariff; unavailable or
    misconfigured → 503 with Retry-After (the operator sees the cause in the log). Yields the
    `Freshness` of the answers (a class, not a generator: it wraps every request)."""

    __slots__ = ("_scope",)

    def __enter__(self) -> Freshness:
        self._scope = freshness_scope()
        return self._scope.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: Any
    ) -> None:
        self._scope.__exit__(kind, error, trace)
        if isinstance(error, SupplyAccountNotFound):
            raise errors.no_tariff() from error
        if isinstance(error, TariffSourceUnavailable):
            raise source_unavailable(error.retry_after) from error
        if isinstance(error, TariffSourceMisconfigured):
            logger.error("The tariff source is misconfigured: %s", error)
            raise source_unavailable() from error
        if isinstance(error, TariffSourceError):
            logger.warning("The tariff source failed: %s", error)
            raise source_unavailable() from error


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
    found = sql.premise_customer_fetch(premise_id=premise.pk)
    if found is None:
        raise errors.no_tariff()
    customer = SourceCustomer(pk=found[0], account_number=found[1])
    if len(_CUSTOMERS) >= _CUSTOMERS_SIZE:
        _CUSTOMERS.clear()
    _CUSTOMERS[key] = (customer, now + _CUSTOMERS_SECONDS)
    return customer


def request_source(polling: PollingToken) -> tuple[TariffSource, CustomerLike]:
    """The source to ask for this request and the customer to ask about. Our own database's
    answers for this premise come partly from query 1 (`local_source`); it needs no account
    number, so the customer costs no query."""
    premise = polling.token.grant.premise
    if source_is_local():
        source = PollingLocalTariffSource(
            premise=premise,
            customer_pk=premise.customer_id,
            at=polling.at,
            in_force=polling.in_force,
        )
        return source, SourceCustomer(pk=premise.customer_id, account_number=None)
    return tariff_source(), premise_customer(premise=premise)


def publication_get(
    *, source: TariffSource, contract: ContractTerm, tariff: TariffDefinition, at: dt.datetime
) -> PriceSeries | None:
    """How far a published or market-indexed tariff's prices reach and when they were last
    published, for its document (None for a schedule)."""
    if tariff.pricing == "schedule":
        return None
    return source.prices_between(contract=contract, start=at, end=at + SHORTEST_RANGE, now=at)


def tariff_version(*, tariff: TariffDefinition, publication: PriceSeries | None) -> str:
    """The version of what a document shows of a tariff: its definition and, for a priced
    tariff, how far its published prices reach and when they were last published."""
    if publication is None:
        return tariff.version
    return "\x1f".join(
        (
            tariff.version,
            "" if publication.published_until is None else publication.published_until.isoformat(),
            "" if publication.last_updated is None else publication.last_updated.isoformat(),
        )
    )


def document_etag(
    *, premise: Premise, contract: ContractTerm, tariff_version: str, output: str, scope: str
) -> str:
    """The strong ETag of a tariff document, from data versions only: the same on every worker
    and instance, and it moves exactly when something the document shows changes."""
    parts = [
        str(DOCUMENT_SCHEMA_VERSION),
        output,
        contract.direction,
        contract.tariff_key,
        contract.version,
        tariff_version,
        str(premise.pk),
        premise.reference,
        *(str(v) for v in premise.postal_address().values()),
        "" if premise.updated_at is None else premise.updated_at.isoformat(),
    ]
    withheld = document_withheld(scope)
    if withheld:
        parts.append("withheld:" + ",".join(withheld))
    # \x1f (unit separator) never occurs in these values: no two versions join alike.
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class NextUpdate:
    """What `next_update` of a rates body is worked out from besides the clock (it moves with
    the clock while a publisher is late), so a body written earlier can be served with a
    current one."""

    timezone: str
    publish_time: dt.time
    published_until: dt.datetime | None

    def at(self, now: dt.datetime) -> dt.datetime:
        return next_update_at(
            now=now,
            timezone=self.timezone,
            publish_time=self.publish_time,
            published_until=self.published_until,
            late_retry=dt.timedelta(minutes=settings.PRICES_LATE_RETRY_MINUTES),
        )


@dataclass(frozen=True)
class RatesBetween:
    """The concrete rates of a range (see `rate_intervals_of`)."""

    intervals: list[RateInterval]
    tariffs: list[TariffDefinition]
    series: PriceSeries | None
    next_update: NextUpdate | None


def rate_intervals_of(
    *,
    source: TariffSource,
    contracts: list[ContractTerm],
    start: dt.datetime,
    end: dt.datetime,
) -> RatesBetween:
    """The concrete rates of [start, end) across `contracts` (those overlapping it, oldest
    first), each tariff as in force over its own stretch (a flat rate's announced change splits
    the stretch); published prices only where published. With the tariffs in force, in order
    (the wire format reads the last one's currency and time zone), and the last price series."""
    intervals: list[RateInterval] = []
    tariffs: list[TariffDefinition] = []
    series: PriceSeries | None = None
    next_update: NextUpdate | None = None
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
                next_update = NextUpdate(
                    timezone=tariff.timezone,
                    publish_time=tariff_publish_time(tariff=tariff),
                    published_until=series.published_until,
                )
                intervals += [
                    RateInterval(
                        start=p.valid_from,
                        end=p.valid_to,
                        unit_rate=p.rate,
                        tiers=(Tier(to_kwh=None, unit_rate=p.rate),),
                    )
                    for p in series.intervals
                ]
            tariffs.append(tariff)
            cursor = piece_end
    return RatesBetween(
        intervals=intervals, tariffs=tariffs, series=series, next_update=next_update
    )


def rates_body_key(
    *,
    premise: Premise,
    direction: str,
    start: dt.datetime,
    end: dt.datetime,
    output: str,
    contracts: list[ContractTerm],
) -> str | None:
    """The key of a rates body in the per-worker cache: the range, the format and the versions
    of everything the body is made of — each contract's and its tariff's with its series'
    publication state, which a source may read with the contracts (`tariff_version`). None
    when it did not (then every body is written afresh)."""
    if not contracts or not all(c.tariff_version for c in contracts):
        return None
    parts = [
        "rates",
        str(DOCUMENT_SCHEMA_VERSION),
        output,
        direction,
        start.isoformat(),
        end.isoformat(),
        str(premise.pk),
        *(f"{c.tariff_key}\x1e{c.version}\x1e{c.tariff_version}" for c in contracts),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


__all__ = [
    "SHORTEST_RANGE",
    "STALE_HEADER",
    "SourceCustomer",
    "document_etag",
    "premise_customer",
    "premise_customers_forget",
    "publication_get",
    "NextUpdate",
    "RatesBetween",
    "rate_intervals_of",
    "rates_body_key",
    "request_source",
    "source_answers",
    "source_is_local",
    "source_unavailable",
    "stale_mark",
    "tariff_version",
]
