"""Reads of the provider's domain. Keyword-only, typed, named entity-first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.charts import TariffChart, tariff_chart_build
from accounts.models import Contract, Direction, Premise, User
from accounts.prices import PriceSeries
from accounts.sources import tariff_source
from accounts.sources.base import TariffSource
from accounts.sources.stand_ins import contract_stand_in, premise_stand_in


def contract_get_active(
    *, premise: Premise, direction: str, at: dt.datetime | None = None
) -> Contract | None:
    """The contract in force for a premise and direction at an instant (now by default)."""
    at = at or timezone.now()
    return (
        Contract.objects.in_force(at)
        .select_related("tariff", "premise")
        .filter(premise=premise, direction=direction)
        .order_by("-start_at")
        .first()
    )


@dataclass(frozen=True)
class ContractOverview:
    contract: Contract
    chart: TariffChart


@dataclass(frozen=True)
class PremiseOverview:
    premise: Premise
    contracts: tuple[ContractOverview, ...]  # in force at the instant asked, IMPORT first


def contract_overview_get(
    *,
    source: TariffSource,
    customer: User,
    premise: Premise,
    direction: str,
    at: dt.datetime,
    id_prefix: str,
) -> ContractOverview | None:
    """The contract of `premise` in `direction` in force at `at`, as `source` tells it, with the
    price chart of its tariff on that day; None when no contract is in force.

    The contract is a stand-in model (never saved) whatever the source, so our database and a
    billing platform render alike; a published or market-indexed tariff is charted from the
    source's `prices_between` for the contract. Raises the source's `TariffSourceError`.
    """
    term = source.contract_in_force(
        customer=customer, reference=premise.reference, direction=direction, at=at
    )
    if term is None:
        return None
    tariff = source.tariff(contract=term, at=at)
    contract = contract_stand_in(premise=premise, contract=term, tariff=tariff)

    def prices(start: dt.datetime, end: dt.datetime) -> PriceSeries:
        return source.prices_between(contract=term, start=start, end=end)

    return ContractOverview(
        contract=contract,
        chart=tariff_chart_build(
            tariff=contract.tariff,
            on=timezone.localtime(at, ZoneInfo(tariff.timezone)).date(),
            id_prefix=id_prefix,
            prices=prices,
        ),
    )


def premise_overview_list(
    *, customer: User, at: dt.datetime | None = None
) -> list[PremiseOverview]:
    """The customer's supply points as the configured tariff source knows them, grouped by
    place, each with its contracts in force at `at` (import first) and a price chart.

    Our own database answers through the same interface as a billing platform. With it: two
    queries for the supply points, then for each place and direction one for the contract and
    two for its tariff and rules (two more for a published tariff's prices): a few per contract,
    never one per rule or price. The source's errors (`TariffSourceError`) reach the caller.
    """
    at = at or timezone.now()
    source = tariff_source()
    points = source.supply_points(customer=customer)
    overview = []
    for reference in dict.fromkeys(p.reference for p in points):
        here = [p for p in points if p.reference == reference]
        premise = premise_stand_in(point=here[0])
        contracts = []
        for direction in sorted({p.direction for p in here}, key=lambda d: d != Direction.IMPORT):
            contract = contract_overview_get(
                source=source,
                customer=customer,
                premise=premise,
                direction=direction,
                at=at,
                id_prefix=f"chart-{reference}-{direction}",
            )
            if contract is not None:
                contracts.append(contract)
        overview.append(PremiseOverview(premise=premise, contracts=tuple(contracts)))
    return overview
