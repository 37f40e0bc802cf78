"""A tariff source reading Kraken (Octopus Energy's platform, run by several suppliers).

Threat: the organisation's Kraken key reads every customer's account, so it is sent only to the
configured GraphQL URL, only in `obtainKrakenToken`, and is never logged; the short-lived token
it buys stays in this process's memory (never in the shared cache). A customer's password is
never asked for or used. Kraken's answers are untrusted input: every field is checked, and an
answer of the wrong shape is refused as `TariffSourceMalformed` rather than guessed at.

Reads: the account's properties, electricity meter points (MPAN, direction) and agreements
(GraphQL, authenticated), and the products API's unit rates and standing charges per tariff
code (REST, public, paged). Every call has a (connect, read) timeout; reads are retried with
backoff inside `KRAKEN_RETRY_DEADLINE`. Answers are kept in the shared cache (agreements for
`KRAKEN_AGREEMENTS_TTL`, prices until their next expected publication); when Kraken is down a
remembered answer is served for up to `TARIFF_SOURCE_MAX_STALENESS` seconds past its freshness
and flagged stale (`accounts.sources.base.freshness_note_stale`).

Money: Kraken quotes pence (per kWh, per day); we convert to pounds with an exact decimal
shift, never rounding (24.9p is £0.249). VAT inclusive or exclusive values are chosen once, by
`KRAKEN_PRICES_INCLUDE_VAT`, for unit rates and standing charges alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.cache import cache

from accounts.prices import (
    PriceSeries,
    local_day_bounds,
    next_update_at,
    published_intervals,
)
from accounts.sources.base import (
    ContractTerm,
    CustomerLike,
    PostalAddress,
    RateRule,
    RuleSet,
    SupplyAccountNotFound,
    SupplyPoint,
    TariffDefinition,
    TariffSourceMalformed,
    TariffSourceMisconfigured,
    TariffSourceUnavailable,
    data_version,
    freshness_note_stale,
)
from accounts.sources.metrics import source_cache_inc, source_call_observe, source_stale_inc
from accounts.tariffs import tariff_rules_problems

logger = logging.getLogger(__name__)

SOURCE = "kraken"
ALL_MONTHS = list(range(1, 13))
ALL_WEEKDAYS = list(range(7))
_FIRST_BACKOFF_SECONDS = 0.2
_TOKEN_MARGIN_SECONDS = 60
_DEFAULT_TOKEN_SECONDS = 3600  # Kraken's tokens last an hour when the payload says nothing
_MAX_PAGES = 50
_MEMO_SIZE = 4096  # entries kept in a process (a few kB each); cleared whole when full
# Kraken's GraphQL answers 200 and puts failures in `errors[].extensions {errorType, errorCode}`.
# A code with a published source (tests/accounts/sources/fixtures/kraken/README.md) decides;
# any other code is classified by its errorType. "auth": our token is not (or no longer)
# accepted, so a new one is obtained once and the query repeated; "forbidden": the organisation
# may not read this, which only an operator can fix; "rate_limited": Kraken's points allowance
# is spent, and asking again at once makes it stricter; "invalid": Kraken refuses our query.
_ERROR_CODES = {
    "KT-CT-1111": "auth",  # Unauthorized (listed on every authenticated field)
    "KT-CT-1112": "auth",  # 'Authorization' header not provided
    "KT-CT-1124": "auth",  # the token's signature has expired
    "KT-CT-1128": "forbidden",  # the viewer is not authorized: roles or permissions
    # account(accountNumber:) "Unauthorized": the one code it lists, so also what an account
    # number this organisation cannot see (another supplier's, a typo) gets. Per account, it is
    # the customer's answer (no tariff to share), not the deployment's: a key without the
    # permission fails every account with KT-CT-1128, and the log names the code.
    "KT-CT-4177": "not_found",
    "KT-CT-4178": "not_found",  # no account found
    "KT-CT-10006": "not_found",  # the requested account could not be found
    "KT-CT-1199": "rate_limited",  # too many requests
}
_ERROR_TYPES = {
    "AUTHENTICATION": "auth",
    # Without a known code, a new token is tried once; refused again, it is a configuration
    # problem (`_graphql`).
    "AUTHORIZATION": "auth",
    "NOT_FOUND": "not_found",
    "VALIDATION": "invalid",
}
# When one answer carries several errors, the first kind in this order decides.
_FAILURE_ORDER = ("auth", "rate_limited", "forbidden", "invalid", "not_found", "other")
_ERROR_CODE = re.compile(r"^KT[-_]([A-Z]{2})[-_](\d+)")
_TARIFF_CODE = re.compile(r"^E-(1R|2R|3R|FLAT2R)-(?P<product>[A-Z0-9-]+?)-(?P<region>[A-P])$")

TOKEN_MUTATION = """
mutation ObtainKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload }
}
""".strip()

ACCOUNT_QUERY = """
query AccountSupplyPoints($accountNumber: String!, $validAfter: DateTime) {
  account(accountNumber: $accountNumber) {
    number
    properties {
      id
      address
      postcode
      electricityMeterPoints {
        mpan
        direction
        agreements(includeInactive: true, validAfter: $validAfter) {
          id
          validFrom
          validTo
          isRevoked
          tariff {
            __typename
            ... on StandardTariff { tariffCode productCode displayName }
            ... on DayNightTariff { tariffCode productCode displayName }
            ... on ThreeRateTariff { tariffCode productCode displayName }
            ... on HalfHourlyTariff { tariffCode productCode displayName }
            ... on PrepayTariff { tariffCode productCode displayName }
          }
        }
      }
    }
  }
}
""".strip()


class _AuthRejected(Exception):
    """Kraken refused our token (HTTP 401/403 or an authorization error): obtain a new one."""


class _NotFound(Exception):
    pass


# --- Parsing helpers --------------------------------------------------------------------------


def pence_to_major(value: Any) -> Decimal:
    """Pence (a JSON number read as Decimal, or a string) → pounds, exactly: 24.9 → 0.249."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TariffSourceMalformed(f"a price is not a number: {type(value).__name__}")
    try:
        amount = Decimal(value)
    except ArithmeticError as e:
        raise TariffSourceMalformed("a price is not a number") from e
    if not amount.is_finite():
        raise TariffSourceMalformed("a price is not finite")
    return amount.scaleb(-2)


def kraken_datetime(value: Any, *, timezone: str) -> dt.datetime:
    """An RFC 3339 datetime from Kraken, aware UTC; one without an offset is local time."""
    if not isinstance(value, str) or not value:
        raise TariffSourceMalformed("a datetime is missing")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise TariffSourceMalformed(f"not a datetime: {value[:40]!r}") from e
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(dt.UTC)


def _optional_datetime(value: Any, *, timezone: str) -> dt.datetime | None:
    return None if value is None else kraken_datetime(value, timezone=timezone)


def tariff_code_parts(code: str) -> tuple[str, str]:
    """(product code, region letter) of an electricity tariff code: E-1R-AGILE-24-10-01-C."""
    match = _TARIFF_CODE.match(code or "")
    if match is None:
        raise TariffSourceMalformed(f"not an electricity tariff code: {code[:60]!r}")
    return match["product"], match["region"]


def _reference(property_id: Any) -> str:
    text = re.sub(r"[^A-Z0-9]", "", str(property_id).upper())
    if not 3 <= len(text) <= 20:
        text = hashlib.sha256(str(property_id).encode()).hexdigest()[:12].upper()
    return f"KRP-{text}"


def _split_address(address: str, postcode: str, country_code: str) -> PostalAddress:
    """Kraken gives a property's address as one string: lines, then the town, then (often) the
    postcode, separated by newlines or commas. The postcode comes from its own field."""
    parts = [p.strip() for p in re.split(r"[\n,]", address or "") if p.strip()]
    post_code = (postcode or "").strip()
    if (
        parts
        and post_code
        and parts[-1].replace(" ", "").upper() == post_code.replace(" ", "").upper()
    ):
        parts.pop()
    line1 = parts[0] if parts else ""
    city = parts[-1] if len(parts) > 1 else ""
    line2 = ", ".join(parts[1:-1]) if len(parts) > 2 else ""
    return PostalAddress(
        address_line1=line1[:200],
        address_line2=line2[:200],
        city=city[:100],
        state="",
        post_code=post_code[:20],
        country_code=country_code,
    )


Row = tuple[dt.datetime, dt.datetime | None, Decimal]


# --- The source -------------------------------------------------------------------------------


class KrakenTariffSource:
    """Supply points, agreements and prices from a Kraken deployment (see the module docstring).

    Settings: KRAKEN_GRAPHQL_URL, KRAKEN_REST_URL, KRAKEN_ORGANIZATION_SECRET_KEY or
    KRAKEN_API_KEY, KRAKEN_CONNECT_TIMEOUT, KRAKEN_READ_TIMEOUT, KRAKEN_RETRY_DEADLINE,
    KRAKEN_AGREEMENTS_TTL, KRAKEN_AGREEMENTS_LOOKBACK_DAYS, KRAKEN_PRICES_INCLUDE_VAT,
    KRAKEN_CURRENCY, KRAKEN_TIMEZONE, KRAKEN_COUNTRY_CODE, KRAKEN_PAGE_SIZE,
    TARIFF_SOURCE_MAX_STALENESS.
    """

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "provider-auth/1 (+tariff source)"}
        )
        self._token: str = ""
        self._token_expires: float = 0.0
        self._token_lock = threading.Lock()
        self._names: dict[str, str] = {}
        self._memo: dict[str, tuple[dict[str, Any], float]] = {}
        self._terms_memo: dict[tuple[str, str], tuple[Any, list[ContractTerm]]] = {}
        self._tariff_memo: dict[tuple[Any, ...], tuple[Any, Any, TariffDefinition]] = {}
        # GraphQL's tariff type per code, once an account naming it has been read here: a
        # HalfHourlyTariff is priced per interval even on a day whose prices are not out yet.
        self._kinds: dict[str, str] = {}

    # --- configuration ---

    @property
    def timezone(self) -> str:
        return str(getattr(settings, "KRAKEN_TIMEZONE", "Europe/London"))

    def _setting(self, name: str, default: Any) -> Any:
        return getattr(settings, name, default)

    def _cache_key(self, *parts: str) -> str:
        base = f"{self._setting('KRAKEN_GRAPHQL_URL', '')}|{self._setting('KRAKEN_REST_URL', '')}"
        return _cache_key_digest(base, parts)

    # --- HTTP ---

    def _request(
        self,
        *,
        operation: str,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One read, retried with backoff while it fails transiently, inside the deadline."""
        started = time.monotonic()
        deadline = started + float(self._setting("KRAKEN_RETRY_DEADLINE", 8.0))
        backoff = _FIRST_BACKOFF_SECONDS
        result = "ok"
        try:
            while True:
                try:
                    return self._attempt(
                        method=method,
                        url=url,
                        params=params,
                        json_body=json_body,
                        headers=headers,
                        deadline=deadline,
                    )
                except TariffSourceMalformed:
                    raise  # the same answer again would not parse either
                except TariffSourceUnavailable as error:
                    wait = max(backoff, float(error.retry_after or 0)) * random.uniform(1.0, 1.25)  # noqa: S311
                    if time.monotonic() + wait >= deadline:
                        logger.warning("Kraken %s unavailable: %s", operation, error)
                        raise
                    logger.info("Kraken %s failed (%s); retrying", operation, error)
                    time.sleep(wait)
                    backoff *= 2
        except TariffSourceMalformed:
            result = "malformed"
            raise
        except TariffSourceUnavailable:
            result = "unavailable"
            raise
        except (TariffSourceMisconfigured, _AuthRejected):
            result = "misconfigured"
            raise
        except _NotFound:
            result = "not_found"
            raise
        finally:
            source_call_observe(
                source=SOURCE,
                operation=operation,
                result=result,
                seconds=time.monotonic() - started,
            )

    def _attempt(
        self,
        *,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
        headers: dict[str, str] | None,
        deadline: float,
    ) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TariffSourceUnavailable("deadline passed")
        timeout = (
            min(float(self._setting("KRAKEN_CONNECT_TIMEOUT", 3.05)), remaining),
            min(float(self._setting("KRAKEN_READ_TIMEOUT", 10.0)), remaining),
        )
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.Timeout as e:
            raise TariffSourceUnavailable("timeout") from e
        except requests.ConnectionError as e:
            raise TariffSourceUnavailable("connection error") from e
        except requests.RequestException as e:
            raise TariffSourceUnavailable(f"request failed: {type(e).__name__}") from e
        status = response.status_code
        if status in (401, 403):
            raise _AuthRejected(f"HTTP {status}")
        if status == 404:
            raise _NotFound("HTTP 404")
        if status == 429 or status >= 500:
            raise TariffSourceUnavailable(
                f"HTTP {status}", retry_after=_retry_after(response.headers.get("Retry-After"))
            )
        if status == 400:
            raise TariffSourceMisconfigured("HTTP 400: Kraken refused our request")
        if not 200 <= status < 300:
            raise TariffSourceMalformed(f"HTTP {status}")
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as e:  # also a body that is not UTF-8
            raise TariffSourceMalformed("the answer is not JSON") from e

    # --- GraphQL and the token ---

    def _credentials(self) -> dict[str, str]:
        secret = self._setting("KRAKEN_ORGANIZATION_SECRET_KEY", "")
        if secret:
            return {"organizationSecretKey": secret}
        api_key = self._setting("KRAKEN_API_KEY", "")
        if api_key:
            return {"APIKey": api_key}
        raise TariffSourceMisconfigured(
            "neither KRAKEN_ORGANIZATION_SECRET_KEY nor KRAKEN_API_KEY is set"
        )

    def _token_get(self) -> str:
        with self._token_lock:
            if self._token and time.time() < self._token_expires - _TOKEN_MARGIN_SECONDS:
                return self._token
            body = self._graphql_post(
                operation="ObtainKrakenToken",
                query=TOKEN_MUTATION,
                variables={"input": self._credentials()},
                token=None,
            )
            errors = body.get("errors")
            if errors and _failure(errors) == "rate_limited":
                raise TariffSourceUnavailable(
                    "Kraken's rate limit refused obtainKrakenToken: " + _error_summary(errors),
                    retry_after=self._rate_limited_retry_after(),
                )
            if errors:
                raise TariffSourceMisconfigured(
                    "Kraken refused the organisation's key in obtainKrakenToken: "
                    + _error_summary(errors)
                )
            node = _dig(body, "data", "obtainKrakenToken")
            token = node.get("token") if isinstance(node, dict) else None
            if not isinstance(token, str) or not token:
                raise TariffSourceMalformed("obtainKrakenToken returned no token")
            payload = node.get("payload")
            exp = payload.get("exp") if isinstance(payload, dict) else None
            now = time.time()
            if isinstance(exp, int | Decimal) and not isinstance(exp, bool) and exp > now:
                self._token_expires = float(exp)
            else:
                self._token_expires = now + _DEFAULT_TOKEN_SECONDS
            self._token = token
            return token

    def _token_forget(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token, self._token_expires = "", 0.0

    def _graphql_post(
        self, *, operation: str, query: str, variables: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        headers = {"Authorization": token} if token else None
        try:
            body = self._request(
                operation=operation,
                method="POST",
                url=self._setting("KRAKEN_GRAPHQL_URL", ""),
                json_body={"operationName": operation, "query": query, "variables": variables},
                headers=headers,
            )
        except _NotFound as e:
            raise TariffSourceMisconfigured(
                "KRAKEN_GRAPHQL_URL answers 404: not a Kraken GraphQL endpoint"
            ) from e
        except _AuthRejected:
            if token is None:
                raise TariffSourceMisconfigured(
                    "Kraken refused obtainKrakenToken (HTTP 401/403)"
                ) from None
            raise
        if not isinstance(body, dict):
            raise TariffSourceMalformed("the GraphQL answer is not an object")
        return body

    def _graphql(self, *, operation: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """An authenticated query; a refused or expired token is replaced once."""
        for attempt in (1, 2):
            token = self._token_get()
            try:
                body = self._graphql_post(
                    operation=operation, query=query, variables=variables, token=token
                )
            except _AuthRejected as e:
                self._token_forget(token)
                if attempt == 2:
                    raise TariffSourceMisconfigured(
                        "Kraken refuses a freshly obtained token"
                    ) from e
                continue
            errors = body.get("errors")
            failure = _failure(errors) if errors else None
            if failure == "auth":
                self._token_forget(token)
                if attempt == 2:
                    raise TariffSourceMisconfigured(
                        "Kraken refuses a freshly obtained token: " + _error_summary(errors)
                    )
                continue
            if failure == "forbidden":
                raise TariffSourceMisconfigured(
                    "Kraken refuses the organisation access (check the key's permissions and "
                    "the customer's account number): " + _error_summary(errors)
                )
            if failure == "rate_limited":
                # Not retried within the deadline: Kraken's limits get stricter while pressed.
                raise TariffSourceUnavailable(
                    "Kraken's rate limit: " + _error_summary(errors),
                    retry_after=self._rate_limited_retry_after(),
                )
            if failure == "invalid":
                raise TariffSourceMalformed(
                    "Kraken refused our query as invalid: " + _error_summary(errors)
                )
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    def _rate_limited_retry_after(self) -> int:
        return int(self._setting("TARIFF_SOURCE_RETRY_AFTER", 300))

    # --- account data (GraphQL) ---

    def _account(self, *, customer: CustomerLike) -> dict[str, Any]:
        number = (customer.account_number or "").strip()
        if not number:
            raise SupplyAccountNotFound("the customer has no account number")

        def fetch() -> tuple[Any, float]:
            lookback = int(self._setting("KRAKEN_AGREEMENTS_LOOKBACK_DAYS", 31))
            valid_after = dt.datetime.now(dt.UTC) - dt.timedelta(days=lookback)
            body = self._graphql(
                operation="AccountSupplyPoints",
                query=ACCOUNT_QUERY,
                variables={
                    "accountNumber": number,
                    "validAfter": valid_after.replace(microsecond=0).isoformat(),
                },
            )
            account = _dig(body, "data", "account")
            errors = body.get("errors")
            if account is None:
                if not errors or _failure(errors) == "not_found":
                    if errors:
                        logger.warning(
                            "Kraken has no account %s… for us: %s",
                            number[:4],
                            _error_summary(errors),
                        )
                    raise SupplyAccountNotFound(f"Kraken knows no account {number[:4]}…")
                raise TariffSourceUnavailable("Kraken: " + _error_summary(errors))
            if errors:  # partial data: something inside failed; do not serve half an account
                raise TariffSourceUnavailable("Kraken: " + _error_summary(errors))
            parsed = self._parse_account(account)
            return parsed, time.time() + int(self._setting("KRAKEN_AGREEMENTS_TTL", 300))

        return self._cached(kind="account", key=self._cache_key("account", number), fetch=fetch)

    def _parse_account(self, account: Any) -> dict[str, Any]:
        """The parts we use, checked: {reference: {address, points: [{mpan, direction,
        agreements: [{id, start, end, code, name}]}]}}."""
        if not isinstance(account, dict) or not isinstance(account.get("properties"), list):
            raise TariffSourceMalformed("account.properties is missing")
        country = str(self._setting("KRAKEN_COUNTRY_CODE", "GB"))
        places: dict[str, Any] = {}
        for prop in account["properties"]:
            if not isinstance(prop, dict) or prop.get("id") in (None, ""):
                raise TariffSourceMalformed("a property has no id")
            points = prop.get("electricityMeterPoints")
            if not isinstance(points, list):
                raise TariffSourceMalformed("property.electricityMeterPoints is missing")
            address = _split_address(
                str(prop.get("address") or ""), str(prop.get("postcode") or ""), country
            )
            parsed_points = []
            for point in points:
                if not isinstance(point, dict) or not isinstance(point.get("mpan"), str):
                    raise TariffSourceMalformed("a meter point has no mpan")
                direction = point.get("direction") or "IMPORT"
                if direction not in ("IMPORT", "EXPORT"):
                    raise TariffSourceMalformed("a meter point has an unknown direction")
                agreements = point.get("agreements")
                if not isinstance(agreements, list):
                    raise TariffSourceMalformed("meterPoint.agreements is missing")
                parsed_agreements: list[dict[str, Any]] = []
                for agreement in agreements:
                    if not isinstance(agreement, dict):
                        raise TariffSourceMalformed("an agreement is not an object")
                    if agreement.get("isRevoked"):
                        continue  # a revoked agreement never applied
                    tariff = agreement.get("tariff")
                    code = tariff.get("tariffCode") if isinstance(tariff, dict) else None
                    if not isinstance(code, str) or not code:
                        raise TariffSourceMalformed("an agreement has no tariff code")
                    start = kraken_datetime(agreement.get("validFrom"), timezone=self.timezone)
                    end = _optional_datetime(agreement.get("validTo"), timezone=self.timezone)
                    if end is not None and end <= start:
                        continue  # an agreement cancelled before it began
                    parsed_agreements.append(
                        {
                            "id": str(agreement.get("id", "")),
                            "start": start,
                            "end": end,
                            "code": code,
                            "name": str(tariff.get("displayName") or code)[:120],  # type: ignore[union-attr]
                            "kind": str(tariff.get("__typename") or ""),  # type: ignore[union-attr]
                        }
                    )
                parsed_agreements.sort(key=lambda a: a["start"])
                parsed_points.append(
                    {"mpan": point["mpan"], "direction": direction, "agreements": parsed_agreements}
                )
            places[_reference(prop["id"])] = {"address": address, "points": parsed_points}
        return places

    def supply_points(self, *, customer: CustomerLike) -> list[SupplyPoint]:
        places = self._account(customer=customer)
        points = [
            SupplyPoint(
                reference=reference,
                address=place["address"],
                direction=point["direction"],
                meter_point_number=point["mpan"],
            )
            for reference, place in places.items()
            for point in place["points"]
        ]
        return sorted(
            points, key=lambda p: (p.reference, p.direction != "IMPORT", p.meter_point_number)
        )

    def _terms(
        self, *, customer: CustomerLike, reference: str, direction: str
    ) -> list[ContractTerm]:
        place = self._account(customer=customer).get(reference)
        if place is None:
            return []
        # The same remembered account (same object) gives the same terms: skip the digests.
        known = self._terms_memo.get((reference, direction))
        if known is not None and known[0] is place:
            return known[1]
        terms = self._terms_build(place=place, reference=reference, direction=direction)
        if len(self._terms_memo) >= _MEMO_SIZE:
            self._terms_memo.clear()
        self._terms_memo[(reference, direction)] = (place, terms)
        return terms

    def _terms_build(
        self, *, place: dict[str, Any], reference: str, direction: str
    ) -> list[ContractTerm]:
        for point in place["points"]:
            for agreement in point["agreements"]:
                self._names[agreement["code"]] = agreement["name"]
                self._kinds[agreement["code"]] = agreement.get("kind", "")
        terms = [
            ContractTerm(
                supply_point_reference=reference,
                direction=direction,
                start_at=agreement["start"],
                end_at=agreement["end"],
                tariff_key=agreement["code"],
                version=data_version(
                    [agreement["id"], agreement["start"], agreement["end"], agreement["code"]]
                ),
            )
            for point in place["points"]
            if point["direction"] == direction
            for agreement in point["agreements"]
        ]
        return sorted(terms, key=lambda t: t.start_at)

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        found = [
            t
            for t in self._terms(customer=customer, reference=reference, direction=direction)
            if t.in_force_at(at)
        ]
        return found[-1] if found else None  # the latest start wins, as locally

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        return [
            t
            for t in self._terms(customer=customer, reference=reference, direction=direction)
            if t.overlaps(start, end)
        ]

    # --- prices (REST) ---

    def _rates_path(self, code: str, kind: str) -> str:
        product, _region = tariff_code_parts(code)
        base = str(self._setting("KRAKEN_REST_URL", "")).rstrip("/")
        return f"{base}/products/{product}/electricity-tariffs/{code}/{kind}/"

    def _rows_for_day(self, *, code: str, kind: str, day: dt.date) -> list[Row]:
        """Every row of `kind` (standard-unit-rates, day-unit-rates, night-unit-rates,
        standing-charges) overlapping one local day, oldest first, in major units."""

        def fetch() -> tuple[Any, float]:
            # Only a fetch needs the day's bounds: a poll answered from memory skips them.
            start, end = local_day_bounds(day=day, timezone=self.timezone)
            rows = self._fetch_rows(code=code, kind=kind, start=start, end=end)
            now = dt.datetime.now(dt.UTC)
            published_until = max((r[1] for r in rows if r[1] is not None), default=None)
            if end <= now - dt.timedelta(days=2):
                fresh_until = now + dt.timedelta(days=1)  # the past is not re-published
            else:
                fresh_until = next_update_at(
                    now=now,
                    timezone=self.timezone,
                    publish_time=dt.time.fromisoformat(settings.PRICES_PUBLISH_TIME),
                    published_until=published_until if kind != "standing-charges" else None,
                    late_retry=dt.timedelta(minutes=settings.PRICES_LATE_RETRY_MINUTES),
                )
                # A flat rate's next change is announced in its own row.
                open_rows = [r for r in rows if r[1] is None or r[1] > end]
                if open_rows and kind != "standard-unit-rates":
                    fresh_until = min(fresh_until, now + dt.timedelta(hours=6))
            return rows, fresh_until.timestamp()

        return self._cached(
            kind="prices", key=self._cache_key("prices", code, kind, day.isoformat()), fetch=fetch
        )

    def _fetch_rows(
        self, *, code: str, kind: str, start: dt.datetime, end: dt.datetime
    ) -> list[Row]:
        include_vat = bool(self._setting("KRAKEN_PRICES_INCLUDE_VAT", True))
        field = "value_inc_vat" if include_vat else "value_exc_vat"
        url: str | None = self._rates_path(code, kind)
        params: dict[str, Any] | None = {
            "period_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "period_to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page_size": int(self._setting("KRAKEN_PAGE_SIZE", 1500)),
        }
        rows: list[Row] = []
        pages = 0
        while url:
            pages += 1
            if pages > _MAX_PAGES:
                raise TariffSourceMalformed("too many pages")
            try:
                body = self._request(
                    operation=kind.replace("-", "_"), method="GET", url=url, params=params
                )
            except _NotFound as e:
                raise TariffSourceMalformed(f"Kraken knows no {kind} for {code}") from e
            except _AuthRejected as e:
                raise TariffSourceMisconfigured("the products API refused us") from e
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise TariffSourceMalformed(f"{kind}: no results list")
            for item in body["results"]:
                if not isinstance(item, dict):
                    raise TariffSourceMalformed(f"{kind}: a result is not an object")
                if item.get("payment_method") not in (None, "DIRECT_DEBIT"):
                    continue  # other payment methods price differently; we bill direct debit
                rows.append(
                    (
                        kraken_datetime(item.get("valid_from"), timezone=self.timezone),
                        _optional_datetime(item.get("valid_to"), timezone=self.timezone),
                        pence_to_major(item.get(field)),
                    )
                )
            next_url = body.get("next")
            if next_url is not None and not isinstance(next_url, str):
                raise TariffSourceMalformed(f"{kind}: next is not a link")
            if next_url and not next_url.startswith(str(self._setting("KRAKEN_REST_URL", ""))):
                raise TariffSourceMalformed(f"{kind}: next leads away from KRAKEN_REST_URL")
            url, params = next_url or None, None  # the next link carries the query
        rows.sort(key=lambda r: r[0])
        return rows

    def _days(self, start: dt.datetime, end: dt.datetime) -> list[dt.date]:
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
        days = []
        while day <= last:
            days.append(day)
            day += dt.timedelta(days=1)
        return days

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        # A definition depends on the day's remembered rows and the rows in force at `at`: while
        # those are the same objects, the definition built from them is the same.
        code = contract.tariff_key
        day = at.astimezone(ZoneInfo(self.timezone)).date()
        standing_rows = self._rows_for_day(code=code, kind="standing-charges", day=day)
        rate_kind = "day-unit-rates" if code.startswith("E-2R-") else "standard-unit-rates"
        rate_rows = self._rows_for_day(code=code, kind=rate_kind, day=day)
        key = (code, day, _row_at(standing_rows, at), _row_at(rate_rows, at))
        known = self._tariff_memo.get(key)
        if known is not None and known[0] is standing_rows and known[1] is rate_rows:
            return known[2]
        definition = self._tariff_build(contract=contract, at=at)
        if len(self._tariff_memo) >= _MEMO_SIZE:
            self._tariff_memo.clear()
        self._tariff_memo[key] = (standing_rows, rate_rows, definition)
        return definition

    def _tariff_build(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        code = contract.tariff_key
        _product, region = tariff_code_parts(code)
        day = at.astimezone(ZoneInfo(self.timezone)).date()
        day_start, day_end = local_day_bounds(day=day, timezone=self.timezone)
        standing = _row_at(self._rows_for_day(code=code, kind="standing-charges", day=day), at)
        if standing is None:
            raise TariffSourceMalformed(f"no standing charge for {code} at {at.isoformat()}")
        used: list[Any] = [["standing", standing]]
        valid_until = [standing[1]]
        if code.startswith("E-2R-"):
            pricing = "schedule"
            rules = self._day_night_rules(code=code, day=day, start=day_start, end=day_end)
            used.append(
                ["rules", [list(map(str, (r.valid_from, r.valid_to, r.unit_rate))) for r in rules]]
            )
        else:
            rows = self._rows_for_day(code=code, kind="standard-unit-rates", day=day)
            half_hourly = self._kinds.get(code) == "HalfHourlyTariff"
            if half_hourly or _windowed(rows):  # a price per half hour (Agile) or window (Go)
                pricing, rules = "published", RuleSet()
                used.append(["published", code])
            else:
                current = _row_at(rows, at)
                if current is None:
                    raise TariffSourceMalformed(f"no unit rate for {code} at {at.isoformat()}")
                pricing = "schedule"
                rules = RuleSet([RateRule(ALL_MONTHS, ALL_WEEKDAYS, "00:00", "24:00", current[2])])
                used.append(["rate", current])
                valid_until.append(current[1])
        ends = [v for v in valid_until if v is not None]
        return TariffDefinition(
            key=code,
            name=self._tariff_name(code),
            currency=str(self._setting("KRAKEN_CURRENCY", "GBP")),
            timezone=self.timezone,
            pricing=pricing,
            prices_include_vat=bool(self._setting("KRAKEN_PRICES_INCLUDE_VAT", True)),
            standing_charge=standing[2],
            rules=rules,
            region=region,
            valid_until=min(ends) if ends else None,
            version=data_version([code, pricing, used]),
        )

    def _tariff_name(self, code: str) -> str:
        # The agreements' displayName, once an account naming this code has been read here.
        return self._names.get(code, code)

    def _day_night_rules(
        self, *, code: str, day: dt.date, start: dt.datetime, end: dt.datetime
    ) -> RuleSet:
        """The day's windows as read from the day and night rates' own validity: each row is
        one window of one day; a row as long as the day carries no window and is refused."""
        zone = ZoneInfo(self.timezone)
        rules = []
        for kind in ("day-unit-rates", "night-unit-rates"):
            for valid_from, valid_to, value in self._rows_for_day(code=code, kind=kind, day=day):
                lo = max(valid_from, start)
                hi = min(valid_to or end, end)
                if lo >= hi:
                    continue
                if lo == start and hi == end:
                    raise TariffSourceMalformed(
                        f"{code}: the {kind} do not say when they apply (no windows in the data)"
                    )
                local_lo = lo.astimezone(zone)
                local_hi = hi.astimezone(zone)
                rules.append(
                    RateRule(
                        months=ALL_MONTHS,
                        weekdays=ALL_WEEKDAYS,
                        valid_from=f"{local_lo:%H:%M}",
                        valid_to="24:00" if hi == end else f"{local_hi:%H:%M}",
                        unit_rate=value,
                    )
                )
        rules.sort(key=lambda r: r.valid_from)
        # Frozen rules read like TariffRule's fields; the protocol only spells them mutable.
        problems = tariff_rules_problems(rules=rules)  # type: ignore[arg-type]
        if problems:
            raise TariffSourceMalformed(f"{code}: the day and night windows do not cover the day")
        return RuleSet(rules)

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        code = contract.tariff_key
        rows: list[Row] = []
        for day in self._days(start, end):
            rows.extend(self._rows_for_day(code=code, kind="standard-unit-rates", day=day))
        if not _windowed(rows) and self._kinds.get(code) != "HalfHourlyTariff":
            raise ValueError("a schedule tariff has no price series; price it by its rules")
        unique = sorted({r[0]: r for r in rows if r[1] is not None}.values(), key=lambda r: r[0])
        closed = [(a, b, v) for a, b, v in unique if b is not None]
        published_until = max((b for _a, b, _v in closed), default=None)
        now = now or dt.datetime.now(dt.UTC)
        return PriceSeries(
            intervals=tuple(published_intervals(rows=closed, start=start, end=end)),
            published_until=published_until,
            last_updated=None,
            next_update=next_update_at(
                now=now,
                timezone=self.timezone,
                publish_time=dt.time.fromisoformat(settings.PRICES_PUBLISH_TIME),
                published_until=published_until,
                late_retry=dt.timedelta(minutes=settings.PRICES_LATE_RETRY_MINUTES),
            ),
        )

    # --- the shared cache, with serve-stale ---

    def _cached(self, *, kind: str, key: str, fetch: Callable[[], tuple[Any, float]]) -> Any:
        """The remembered value while fresh; else a fresh fetch; if the platform is down, the
        remembered value for up to TARIFF_SOURCE_MAX_STALENESS past its freshness (flagged)."""
        now = time.time()
        memo = self._memo.get(key)
        if memo is not None and memo[1] > now:
            source_cache_inc(source=SOURCE, kind=kind, hit=True)
            return memo[0]["data"]
        entry = cache.get(key)
        if entry is not None and entry["fresh_until"] > now:
            self._memo_put(key, entry, now)
            source_cache_inc(source=SOURCE, kind=kind, hit=True)
            return entry["data"]
        source_cache_inc(source=SOURCE, kind=kind, hit=False)
        max_staleness = int(self._setting("TARIFF_SOURCE_MAX_STALENESS", 6 * 3600))
        down_key = self._cache_key("down")
        try:
            if entry is not None and cache.get(down_key) is not None:
                # Kraken failed moments ago (any worker): do not make every poll wait out the
                # retry deadline again; the remembered answer is served at once.
                raise TariffSourceUnavailable("Kraken was unavailable moments ago")
            data, fresh_until = fetch()
        except TariffSourceUnavailable as error:
            cache.add(down_key, now, timeout=int(self._setting("KRAKEN_DOWN_SECONDS", 30)))
            if entry is not None and now < entry["fresh_until"] + max_staleness:
                source_stale_inc(source=SOURCE, kind=kind)
                freshness_note_stale(
                    fetched_at=dt.datetime.fromtimestamp(entry["fetched_at"], tz=dt.UTC)
                )
                logger.warning("Kraken unavailable (%s): serving remembered %s", error, kind)
                return entry["data"]
            if error.retry_after is None:
                error.retry_after = int(self._setting("TARIFF_SOURCE_RETRY_AFTER", 300))
            raise
        entry = {"data": data, "fetched_at": now, "fresh_until": fresh_until}
        cache.set(key, entry, timeout=max(1, int(fresh_until - now)) + max_staleness)
        self._memo_put(key, entry, now)
        return data

    def _memo_put(self, key: str, entry: dict[str, Any], now: float) -> None:
        """Keep a shared-cache entry in this process for at most KRAKEN_MEMO_SECONDS (and never
        past its freshness): a poll then costs no cache round trip. Every worker reads the same
        shared entry, so they agree; only an entry replaced early (evicted and fetched anew
        with changed data) could differ between workers, for those few seconds."""
        seconds = float(self._setting("KRAKEN_MEMO_SECONDS", 5))
        if seconds <= 0:
            return
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = (entry, min(entry["fresh_until"], now + seconds))


# --- small helpers ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _cache_key_digest(base: str, parts: tuple[str, ...]) -> str:
    """The shared-cache key of `parts` under the configured hosts. Every poll asks for the same
    few keys, so each is digested once per process, not once per look-up."""
    digest = hashlib.sha256("|".join((base, *parts)).encode()).hexdigest()[:32]
    return f"tariffsrc:kraken:{parts[0]}:{digest}"


def _row_at(rows: list[Row], at: dt.datetime) -> Row | None:
    found = [r for r in rows if r[0] <= at and (r[1] is None or at < r[1])]
    return max(found, key=lambda r: r[0]) if found else None


def _windowed(rows: list[Row]) -> bool:
    """True when the rows are prices per window (shorter than a day), not per period."""
    return any(r[1] is not None and r[1] - r[0] < dt.timedelta(hours=23) for r in rows)


def _retry_after(value: str | None) -> int | None:
    try:
        return min(max(int(value or ""), 0), 30)
    except ValueError:
        return None


def _dig(body: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


def _error_items(errors: Any) -> list[dict[str, Any]]:
    if not isinstance(errors, list):
        return [{"message": "errors is not a list"}]
    return [e if isinstance(e, dict) else {"message": str(e)[:80]} for e in errors]


def _extension(error: dict[str, Any], name: str) -> str:
    extensions = error.get("extensions")
    return str(extensions.get(name, "")) if isinstance(extensions, dict) else ""


def _error_code(error: dict[str, Any]) -> str:
    """`KT-CT-1124`; deployments that spell codes `KT_CT_1124_JWT_EXPIRED` read the same."""
    match = _ERROR_CODE.match(_extension(error, "errorCode").strip().upper())
    return f"KT-{match[1]}-{match[2]}" if match else ""


def _error_type(error: dict[str, Any]) -> str:
    # Some deployments' documentation writes `NOT FOUND` for `NOT_FOUND`.
    return "_".join(_extension(error, "errorType").upper().split())


def _failure(errors: Any) -> str:
    """What a GraphQL `errors` list means for us: auth, forbidden, rate_limited, invalid,
    not_found or other (see `_ERROR_CODES`)."""
    kinds = {
        _ERROR_CODES.get(_error_code(e)) or _ERROR_TYPES.get(_error_type(e), "other")
        for e in _error_items(errors)
    }
    return next((kind for kind in _FAILURE_ORDER if kind in kinds), "other")


def _error_summary(errors: Any) -> str:
    """Codes and messages only (never the query, variables or our key), kept short."""
    parts = []
    for error in _error_items(errors)[:3]:
        code = _extension(error, "errorCode")
        message = " ".join(str(error.get("message", "")).split())[:120]
        parts.append(f"{code} {message}".strip())
    return "; ".join(parts) or "unknown error"
