"""Unsaved model instances standing in for what a tariff source answers.

The pages, the chart and the tariff API's wire formats were written for our models; a source's
values become `Premise`, `Contract` and `Tariff` instances (with the rules filled in as
`prefetch_related` would leave them) that are never saved and never touch the database.
"""

from __future__ import annotations

from accounts.models import Contract, Premise, Tariff, TariffRule
from accounts.sources.base import ContractTerm, SupplyPoint, TariffDefinition

# Django's related managers need a primary key to read the rules we fill in; this one is never
# written anywhere.
_UNSAVED_PK = -1


def premise_stand_in(*, point: SupplyPoint) -> Premise:
    return Premise(
        reference=point.reference,
        meter_point_number=point.meter_point_number,
        **point.address.as_dict(),
    )


def tariff_stand_in(*, tariff: TariffDefinition) -> Tariff:
    model = Tariff(
        pk=_UNSAVED_PK,
        name=tariff.name,
        currency=tariff.currency,
        timezone=tariff.timezone,
        standing_charge=tariff.standing_charge,
        pricing=tariff.pricing,
        prices_include_vat=tariff.prices_include_vat,
        bidding_zone=tariff.bidding_zone,
    )
    model.updated_at = tariff.updated_at  # type: ignore[assignment]  # None: the source did not say
    rules = [
        TariffRule(
            tariff=model,
            months=list(rule.months),
            weekdays=list(rule.weekdays),
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            unit_rate=rule.unit_rate,
            tier_to_kwh=rule.tier_to_kwh,
            surcharge_fixed=rule.surcharge_fixed,
            surcharge_percentage=rule.surcharge_percentage,
        )
        for rule in tariff.rules
    ]
    queryset = model.rules.all()
    queryset._result_cache = rules  # type: ignore[attr-defined]
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    model._prefetched_objects_cache = {"rules": queryset}  # type: ignore[attr-defined]
    return model


def contract_stand_in(
    *, premise: Premise, contract: ContractTerm, tariff: TariffDefinition
) -> Contract:
    """A `Contract` with its premise, its `Tariff` and the tariff's rules filled in."""
    model = Contract(
        premise=premise,
        tariff=tariff_stand_in(tariff=tariff),
        direction=contract.direction,
        start_at=contract.start_at,
        end_at=contract.end_at,
    )
    model.updated_at = contract.updated_at  # type: ignore[assignment]  # None: the source did not say
    return model
