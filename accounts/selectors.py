"""Reads of the provider's domain. Keyword-only, typed, named entity-first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.charts import TariffChart, tariff_chart_build
from accounts.models import Contract, Direction, Premise, User, contract_in_force_q
from accounts.sources import tariff_source
from accounts.sources.base import TariffSource
from accounts.sources.local import LocalTariffSource
from accounts.sources.stand_ins import contract_stand_in, premise_stand_in


def premise_list_for_customer(*, customer: User) -> QuerySet[Premise]:
    return Premise.objects.filter(customer=customer).order_by("reference")


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


def premise_list_with_active_contract(
    *, customer: User, direction: str, at: dt.datetime | None = None
) -> QuerySet[Premise]:
    """The customer's premises that have a contract in force in `direction` at `at`."""
    at = at or timezone.now()
    # One filter() call, so the direction and the dates apply to the same contract (one join).
    contract_filter = Q(contracts__direction=direction) & contract_in_force_q(
        at, prefix="contracts__"
    )
    return (
        Premise.objects.filter(customer=customer)
        .filter(contract_filter)
        .distinct()
        .order_by("reference")
    )


@dataclass(frozen=True)
class ContractOverview:
    contract: Contract
    chart: TariffChart


@dataclass(frozen=True)
class PremiseOverview:
    premise: Premise
    contracts: tuple[ContractOverview, ...]  # in force at the instant asked, IMPORT first


def premise_overview_list(
    *, customer: User, at: dt.datetime | None = None
) -> list[PremiseOverview]:
    """The customer's premises, each with its contracts in force and a price chart per tariff.

    Three queries whatever the number of premises: premises, contracts with tariffs, rules.
    With a tariff source other than our database, everything comes from the source (see
    `premise_overview_list_from_source`); its errors (`TariffSourceError`) reach the caller.
    """
    at = at or timezone.now()
    source = tariff_source()
    if not isinstance(source, LocalTariffSource):
        return premise_overview_list_from_source(source=source, customer=customer, at=at)
    in_force = (
        Contract.objects.in_force(at).select_related("tariff").prefetch_related("tariff__rules")
    )
    premises = premise_list_for_customer(customer=customer).prefetch_related(
        Prefetch("contracts", queryset=in_force, to_attr="contracts_in_force")
    )
    return [
        PremiseOverview(
            premise=premise,
            contracts=tuple(
                ContractOverview(
                    contract=contract,
                    chart=tariff_chart_build(
                        tariff=contract.tariff,
                        on=timezone.localtime(at, ZoneInfo(contract.tariff.timezone)).date(),
                        id_prefix=f"chart-{premise.reference}-{contract.direction}",
                    ),
                )
                for contract in sorted(
                    premise.contracts_in_force,  # type: ignore[attr-defined]
                    key=lambda c: (c.direction != Direction.IMPORT, c.start_at),
                )
            ),
        )
        for premise in premises
    ]


def premise_overview_list_from_source(
    *, source: TariffSource, customer: User, at: dt.datetime
) -> list[PremiseOverview]:
    """The customer's supply points as the source knows them, grouped by place, each with its
    contracts in force at `at` (import first) and a price chart, through stand-in models."""
    points = source.supply_points(customer=customer)
    overview = []
    for reference in dict.fromkeys(p.reference for p in points):
        here = [p for p in points if p.reference == reference]
        premise = premise_stand_in(point=here[0])
        contracts = []
        for direction in sorted({p.direction for p in here}, key=lambda d: d != Direction.IMPORT):
            term = source.contract_in_force(
                customer=customer, reference=reference, direction=direction, at=at
            )
            if term is None:
                continue
            tariff = source.tariff(contract=term, at=at)
            contract = contract_stand_in(premise=premise, contract=term, tariff=tariff)
            contracts.append(
                ContractOverview(
                    contract=contract,
                    chart=tariff_chart_build(
                        tariff=contract.tariff,
                        on=timezone.localtime(at, ZoneInfo(tariff.timezone)).date(),
                        id_prefix=f"chart-{reference}-{direction}",
                    ),
                )
            )
        overview.append(PremiseOverview(premise=premise, contracts=tuple(contracts)))
    return overview
