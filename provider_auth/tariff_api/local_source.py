"""Our own database as the tariff source of one tariff API request, within its query budget.

The tariff API asks every source the same questions (`accounts.sources.base.TariffSource`).
With our own database as the source, the answers can be read more cheaply than
`LocalTariffSource` reads them, because the API's query 1 already joined the premise's contracts
in force (with their tariffs' versions) to the bearer token, and because one request asks about
one premise only. `PollingLocalTariffSource` is `LocalTariffSource` for one such request:

- `contract_in_force` at the instant query 1 was made answers from its rows (no query);
- `contracts_overlapping` reads the contracts with their tariffs and rules, and the publication
  state of their published or market-indexed series, in one query: each contract carries its
  tariff's and series' version (`tariff_version`), so a rates body already written is known to
  hold without reading a price; it remembers the tariffs, so `tariff` costs nothing afterwards;
- `prices_between` reads a series' state and price rows in one query.

Anything else (another premise, another instant) falls back to `LocalTariffSource`, so the
answers are always the same as its own — `tests/provider_auth/tariff_api/test_local_source.py`
compares them. One instance per request: what it remembers is never shared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from accounts.models import Premise, Pricing
from accounts.price_selectors import LONGEST_INTERVAL, PublicationState, price_series_build
from accounts.prices import PriceSeries
from accounts.sources.base import ContractTerm, CustomerLike, TariffDefinition, TariffSourceError
from accounts.sources.local import (
    LocalTariffSource,
    contract_term_of,
    tariff_definition_from_model,
    tariff_definition_of,
)
from provider_auth.tariff_api import sql
from provider_auth.tariff_api.selectors import tariff_get_with_rules


def _series_key(tariff: TariffDefinition) -> int | str | None:
    """How the range query names a tariff's series: its own id, or its zone; None: a schedule."""
    if tariff.pricing == Pricing.PUBLISHED:
        return int(tariff.key)
    if tariff.pricing == Pricing.MARKET_INDEXED:
        return tariff.bidding_zone
    return None


def contract_term_from_poll_row(*, premise: Premise, row: sql.ContractRow) -> ContractTerm:
    """A contract in force as query 1 read it: its `tariff_version` is everything of the tariff
    the document shows besides the rules (covered by the tariff's `updated_at`, which every
    write of a rule set bumps) and, for a priced tariff, its series' publication tag."""
    tariff_updated = "" if row.tariff_updated_at is None else row.tariff_updated_at.isoformat()
    return contract_term_of(
        row,
        reference=premise.reference,
        tariff_updated_at=row.tariff_updated_at,
        tariff_version="\x1f".join((tariff_updated, *row.tariff_fields, row.publication_tag or "")),
    )


class PollingLocalTariffSource(LocalTariffSource):
    """`LocalTariffSource` for one tariff API request about `premise` (see the module)."""

    def __init__(
        self,
        *,
        premise: Premise,
        customer_pk: int,
        at: dt.datetime | None = None,
        in_force: tuple[sql.ContractRow, ...] | None = None,
    ) -> None:
        self._premise = premise
        self._customer_pk = customer_pk
        self._at = at
        # Query 1's rows are ordered by start: the latest-starting contract wins.
        self._in_force: dict[str, sql.ContractRow] | None = None
        if in_force is not None:
            self._in_force = {row.direction: row for row in in_force}
        self._tariffs: dict[str, TariffDefinition] = {}

    def _ours(self, customer: CustomerLike, reference: str) -> bool:
        return customer.pk == self._customer_pk and reference == self._premise.reference

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        if self._in_force is None or at != self._at or not self._ours(customer, reference):
            return super().contract_in_force(
                customer=customer, reference=reference, direction=direction, at=at
            )
        row = self._in_force.get(direction)
        return None if row is None else contract_term_from_poll_row(premise=self._premise, row=row)

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        if end <= start or not self._ours(customer, reference):
            return super().contracts_overlapping(
                customer=customer, reference=reference, direction=direction, start=start, end=end
            )
        read = sql.contracts_with_series_fetch(
            premise_id=self._premise.pk, direction=direction, start=start, end=end
        )
        terms = []
        for found in read.contracts:
            found.contract.direction = direction
            found.contract.tariff_id = found.tariff.pk
            key = str(found.tariff.pk)
            if key not in self._tariffs:
                self._tariffs[key] = tariff_definition_of(found.tariff, rules=found.rules)
            definition = self._tariffs[key]
            series = _series_key(definition)
            state = None if series is None else read.states.get(series, (0, 0, None, None))
            # The tariff's version and its series' publication state, read in the same query:
            # all a body of these rates is made of besides the range (see `sourced`).
            terms.append(
                contract_term_of(
                    found.contract,
                    reference=reference,
                    tariff_updated_at=found.tariff.updated_at,
                    tariff_version=f"{definition.version}\x1f{state or ''}",
                )
            )
        return terms

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        definition = self._tariffs.get(contract.tariff_key)
        if definition is None:
            # One query, where `LocalTariffSource` prefetches the rules with a second.
            tariff = tariff_get_with_rules(tariff_id=int(contract.tariff_key))
            if tariff is None:  # deleted since the contract was read: contracts PROTECT it
                raise TariffSourceError(f"tariff {contract.tariff_key} no longer exists")
            definition = self._tariffs[contract.tariff_key] = tariff_definition_from_model(tariff)
        row = (self._in_force or {}).get(contract.direction)
        if (
            contract.tariff_version
            and row is not None
            and str(row.tariff_id) == contract.tariff_key
            and definition.updated_at == row.tariff_updated_at
        ):
            # The tariff read now is the one query 1 versioned: it carries that version, so a
            # document made of it is filed under the ETag the poll answered with.
            return replace(definition, version=contract.tariff_version)
        return definition

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        tariff = self.tariff(contract=contract, at=start)
        if tariff.pricing == Pricing.SCHEDULE:
            raise ValueError("a schedule tariff has no price series; price it by its rules")
        # One query: the series' publication state with the rows that reach into the range.
        state, rows = sql.price_series_fetch(
            pricing=tariff.pricing,
            tariff_id=int(tariff.key),
            zone=tariff.bidding_zone,
            currency=tariff.currency,
            start=start - LONGEST_INTERVAL,
            end=end,
        )
        days, versions, last_updated, published_until = state
        return price_series_build(
            tariff=tariff,
            state=PublicationState(
                days=days,
                versions=versions,
                last_updated=last_updated,
                published_until=published_until,
            ),
            rows=rows,
            start=start,
            end=end,
            now=now,
        )


__all__ = ["PollingLocalTariffSource", "contract_term_from_poll_row"]
