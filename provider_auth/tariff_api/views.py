"""The tariff API that FlatPeak polls: the current tariff and concrete rates of a grant's premise.

Both endpoints read through the configured tariff source (`sourced`), whichever it is. Budget
with our own database as the source: at most three queries per request, one for most. Query 1
is the bearer token with its grant, client, premise and — for the current tariff — the
contracts in force with their versions and, for a published or market-indexed tariff, its price
series' publication state; that decides a 304 (the ETag is derived from those versions) and
serves a 200 whose document this worker already wrote. Query 2 loads a tariff's rules, only to
write a document or a range of rates; query 3 a priced tariff's series state and price rows.
The polling limit is one cache round trip; ETags are pure functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError
from authlib.oauth2.rfc6750 import InsufficientScopeError
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone

from accounts.models import Direction
from accounts.prices import PriceSeries
from accounts.sources.base import ContractTerm, TariffDefinition, TariffSource
from accounts.sources.stand_ins import contract_stand_in
from accounts.timefmt import rfc3339
from provider_auth.consent.lifecycle import grant_end_reason
from provider_auth.oauth.bearer import (
    BearerMalformedError,
    access_token_digest,
    access_token_validate,
    bearer_token_value,
)
from provider_auth.oauth.models import AccessToken
from provider_auth.oauth.scopes import TARIFF_READ
from provider_auth.ops.metrics import tariff_request_observe
from provider_auth.tariff_api import errors, sourced
from provider_auth.tariff_api.documents import (
    CACHE_SIZE,
    DocumentCache,
    documents,
    tariff_document_render,
)
from provider_auth.tariff_api.formats import tariff_rates_body
from provider_auth.tariff_api.methods import read_only_endpoint
from provider_auth.tariff_api.selectors import PollingToken, access_token_get_for_polling
from provider_auth.tariff_api.services import grant_poll_count

SCOPE = TARIFF_READ
MAX_RANGE = dt.timedelta(days=7)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
FORMATS = ("provider", "flatpeak")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")

View = Callable[[HttpRequest, PollingToken], HttpResponse]


def tariff_endpoint(*, contracts_in_force: bool) -> Callable[[View], Callable[..., HttpResponse]]:
    """Authenticate the bearer token, apply the polling limit, map errors, record metrics.

    `contracts_in_force`: load the premise's current contracts with the token (query 1).
    """

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            try:
                # A billing-platform source answers contracts itself: the token alone will do.
                wants_contracts = contracts_in_force and sourced.source_is_local()
                polling = _authenticate(request, at=timezone.now() if wants_contracts else None)
                allowed, retry_after = grant_poll_count(grant_id=polling.token.grant_id)
                if not allowed:
                    raise errors.rate_limited(retry_after)
                response = view(request, polling)
            except errors.TariffApiError as error:
                response = error.response()
            tariff_request_observe(
                status=response.status_code, seconds=time.perf_counter() - started
            )
            return response

        return read_only_endpoint(wrapped)

    return decorate


def _authenticate(request: HttpRequest, *, at: dt.datetime | None) -> PollingToken:
    token: AccessToken | None = None
    digest: str | None = None
    try:
        value = bearer_token_value(request.META.get("HTTP_AUTHORIZATION", ""))
        digest = access_token_digest(value)
        polling = (
            access_token_get_for_polling(token_hash=digest, at=at) if digest is not None else None
        )
        token = polling.token if polling is not None else None
        access_token_validate(token, digest=digest, scopes=[SCOPE])
    except MissingAuthorizationError as e:  # none, or another scheme (RFC 6750 §3.1)
        raise errors.missing_token() from e
    except BearerMalformedError as e:
        raise errors.malformed_authorization() from e
    except InsufficientScopeError as e:
        raise errors.insufficient_scope() from e
    except OAuth2Error as e:  # invalid, expired, revoked, pending grant, not a Bearer token
        # A genuine token of a grant that ended says why, so FlatPeak can tell the device maker.
        if token is not None and digest and hmac.compare_digest(token.token_hash, digest):
            reason = grant_end_reason(token.grant)
            if reason is not None:
                raise errors.grant_ended(reason) from e
        raise errors.invalid_token() from e
    assert polling is not None  # noqa: S101 (access_token_validate raised otherwise)
    return polling


def _direction(request: HttpRequest, token: AccessToken) -> str:
    granted = token.grant.directions or [Direction.IMPORT]
    if "direction" not in request.GET:
        return Direction.IMPORT if Direction.IMPORT in granted else granted[0]
    requested = request.GET["direction"].upper()
    if not requested:
        # `?direction=` is not "the default": a client that meant to send one has a bug to see.
        raise errors.bad_request(
            "invalid_direction", "direction must be IMPORT or EXPORT; omit it for the default."
        )
    if requested not in Direction.values:
        raise errors.bad_request("invalid_direction", "direction must be IMPORT or EXPORT.")
    if requested not in granted:
        raise errors.insufficient_scope(f"This grant does not cover the {requested} direction.")
    return requested


def _if_none_match(request: HttpRequest, etag: str) -> bool:
    # From META: `request.headers` would first build a mapping of every header.
    candidates = [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]
    # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    return "*" in candidates or etag in (c.removeprefix("W/") for c in candidates)


def _not_modified(etag: str) -> HttpResponse:
    # No Content-Type: a 304 describes the stored 200, and a cache merges its headers into it
    # (RFC 9110 §15.4.5). Content-Length is kept off by `middleware.CommonMiddleware`.
    return _cacheable(HttpResponseNotModified(), etag)


def _cacheable(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    # Personal data: caches may keep it only for this client and must revalidate each time.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization"
    return response


@dataclass(frozen=True)
class RatesBody:
    """A rates body as written once: its JSON without `next_update` (the version), that
    version's ETag, and what `next_update` is worked out from (None: a schedule's, null)."""

    versioned: str
    etag: str
    next_update: sourced.NextUpdate | None


# Rates bodies by the versions they were written from (`sourced.rates_body_key`), per worker:
# FlatPeak asks for the same day's rates again and again, and writing a body of 48–672
# intervals costs several times the query that tells it is unchanged.
rates_bodies: DocumentCache[RatesBody] = DocumentCache(CACHE_SIZE)


def _rates_body(body: dict[str, Any], next_update: sourced.NextUpdate | None) -> RatesBody:
    # `next_update` is advice that moves with the clock while a publisher is late; the version
    # is everything else, so the ETag changes when a day of prices is published and not before.
    versioned = {k: v for k, v in body.items() if k != "next_update"}
    payload = json.dumps(versioned, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    etag = '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'
    return RatesBody(versioned=payload, etag=etag, next_update=next_update)


def _rates_response(request: HttpRequest, written: RatesBody) -> HttpResponse:
    if _if_none_match(request, written.etag):
        return _not_modified(written.etag)
    # The versioned JSON with `next_update` appended as of now (one serialisation, not two).
    next_update = (
        None if written.next_update is None else rfc3339(written.next_update.at(timezone.now()))
    )
    payload = written.versioned[:-1] + ',"next_update":' + json.dumps(next_update) + "}"
    return _cacheable(HttpResponse(payload, content_type="application/json"), written.etag)


@tariff_endpoint(contracts_in_force=True)
def tariff_current(request: HttpRequest, polling: PollingToken) -> HttpResponse:
    """GET /api/v1/tariff[?direction=IMPORT|EXPORT][&format=provider|flatpeak]

    The ETag comes from the versions of the contract, its tariff (and, for a priced tariff, its
    series' publication) and the premise; our own database's are read by query 1, so a 304
    costs that query. A 200 this worker has written before costs nothing more; a new one reads
    the tariff with its rules (query 2) and, for a priced tariff, its series' state (query 3).
    """
    direction = _direction(request, polling.token)
    output = request.GET.get("format", "provider")
    if output not in FORMATS:
        raise errors.bad_request("invalid_format", "format must be provider or flatpeak.")
    premise = polling.token.grant.premise
    scope = polling.token.scope
    at = polling.at or timezone.now()
    with sourced.source_answers() as freshness:
        source, customer = sourced.request_source(polling)
        contract = source.contract_in_force(
            customer=customer, reference=premise.reference, direction=direction, at=at
        )
        if contract is None:
            raise errors.no_tariff()
        tariff: TariffDefinition | None = None
        publication: PriceSeries | None = None
        version = contract.tariff_version
        if not version:
            tariff = source.tariff(contract=contract, at=at)
            publication = sourced.publication_get(
                source=source, contract=contract, tariff=tariff, at=at
            )
            version = sourced.tariff_version(tariff=tariff, publication=publication)
        etag = sourced.document_etag(
            premise=premise, contract=contract, tariff_version=version, output=output, scope=scope
        )
        if _if_none_match(request, etag):
            return sourced.stale_mark(_not_modified(etag), freshness)
        payload = documents.get(etag)
        if payload is None:
            if tariff is None:
                tariff = source.tariff(contract=contract, at=at)
                # A day published since query 1 shows here under the older ETag — harmless: it
                # is no staler than the ETag says, and every later poll sees the new version.
                publication = sourced.publication_get(
                    source=source, contract=contract, tariff=tariff, at=at
                )
            payload = tariff_document_render(
                contract=contract_stand_in(premise=premise, contract=contract, tariff=tariff),
                output=output,
                scope=scope,
                publication=publication,
            )
            # Filed under the ETag only when made of the versions it names (not edited since).
            if not contract.tariff_version or tariff.version == contract.tariff_version:
                documents.put(etag, payload)
    response = _cacheable(HttpResponse(payload, content_type="application/json"), etag)
    return sourced.stale_mark(response, freshness)


def _instant(request: HttpRequest, name: str) -> dt.datetime:
    value = request.GET.get(name, "")
    if not _RFC3339.match(value):
        raise errors.bad_request(
            "invalid_time", f"{name} must be an RFC 3339 date-time, e.g. 2026-03-29T00:00:00Z."
        )
    try:
        instant = dt.datetime.fromisoformat(value.upper()).astimezone(dt.UTC)
    except (ValueError, OverflowError) as e:
        raise errors.bad_request("invalid_time", f"{name} is not a valid date-time.") from e
    if not EARLIEST <= instant <= LATEST:
        # Far-off years would overflow local-time arithmetic; no tariff lives there anyway.
        raise errors.bad_request("invalid_time", f"{name} must lie between 2000 and 2100.")
    return instant


@tariff_endpoint(contracts_in_force=False)
def tariff_rates(request: HttpRequest, polling: PollingToken) -> HttpResponse:
    """GET /api/v1/tariff/rates?start_time=…&end_time=…[&direction=…][&format=provider|flatpeak]

    Queries, with our own database as the source: the token (1); the contracts overlapping the
    range with their tariffs and rules (2); a published or market-indexed contract's series
    state and price rows (3, one per such contract in the range).
    """
    token = polling.token
    direction = _direction(request, token)
    output = request.GET.get("format", "provider")
    if output not in FORMATS:
        raise errors.bad_request("invalid_format", "format must be provider or flatpeak.")
    start, end = _instant(request, "start_time"), _instant(request, "end_time")
    if end <= start:
        raise errors.bad_request("invalid_time_range", "end_time must be after start_time.")
    if end - start > MAX_RANGE:
        raise errors.bad_request("invalid_time_range", "The range may span at most 7 days.")
    premise = token.grant.premise
    with sourced.source_answers() as freshness:
        source, customer = sourced.request_source(polling)
        contracts = source.contracts_overlapping(
            customer=customer,
            reference=premise.reference,
            direction=direction,
            start=start,
            end=end,
        )
        if not contracts:
            raise errors.no_tariff()
        key = sourced.rates_body_key(
            premise=premise,
            direction=direction,
            start=start,
            end=end,
            output=output,
            contracts=contracts,
        )
        written = None if key is None else rates_bodies.get(key)
        if written is None:
            written = _rates_write(
                source=source,
                contracts=contracts,
                direction=direction,
                start=start,
                end=end,
                output=output,
            )
            if key is not None:
                rates_bodies.put(key, written)
    return sourced.stale_mark(_rates_response(request, written), freshness)


def _rates_write(
    *,
    source: TariffSource,
    contracts: list[ContractTerm],
    direction: str,
    start: dt.datetime,
    end: dt.datetime,
    output: str,
) -> RatesBody:
    rates = sourced.rate_intervals_of(source=source, contracts=contracts, start=start, end=end)
    if not rates.intervals and rates.series is not None:
        # Never an empty 200: the whole range lies where nothing is published.
        raise errors.prices_not_published(
            published_until=rates.series.published_until,
            next_update=rates.series.next_update,
            now=timezone.now(),
        )
    body = tariff_rates_body(
        direction=direction,
        tariffs=rates.tariffs,
        start=start,
        end=end,
        intervals=rates.intervals,
        series=rates.series,
        output=output,
    )
    return _rates_body(body, rates.next_update)


@read_only_endpoint
def openapi_document(request: HttpRequest) -> JsonResponse:
    from provider_auth.tariff_api.openapi import openapi_build

    response = JsonResponse(openapi_build(base_url=settings.PUBLIC_BASE_URL))
    response["Cache-Control"] = "public, max-age=3600"
    return response
