"""The default tariff source: our own database (premises, contracts, tariffs and their rules).

Behaviour is exactly that of the selectors it replaces: a premise is a supply point, its
reference is the premise's reference, a contract is in force from `start_at` (inclusive) to
`end_at` (exclusive), the latest-starting one wins should two ever overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Contract, Direction, Premise, Pricing, Tariff
from accounts.price_selectors import tariff_prices_between
from accounts.prices import PriceSeries
from accounts.sources.base import (
    ContractTerm,
    CustomerLike,
    PostalAddress,
    RateRule,
    RuleSet,
    SupplyPoint,
    TariffDefinition,
    TariffSourceError,
    data_version,
)


def _stamp(value: dt.datetime | None) -> int:
    return int(value.timestamp() * 1_000_000) if value else 0


def contract_term_from_model(contract: Contract) -> ContractTerm:
    """A stored contract as the interface's value (reads `contract.premise` and `.tariff`)."""
    return contract_term_of(
        contract,
        reference=contract.premise.reference,
        tariff_updated_at=contract.tariff.updated_at,
    )


def contract_term_of(
    contract: Any,
    *,
    reference: str,
    tariff_updated_at: dt.datetime | None,
    tariff_version: str = "",
) -> ContractTerm:
    """The interface's value of a contract's stored fields, read as attributes (a `Contract`,
    or a row read without building one). Its version names the dates themselves besides
    `updated_at`: a date written without `save()` (a queryset update) still moves it."""
    return ContractTerm(
        supply_point_reference=reference,
        direction=contract.direction,
        start_at=contract.start_at,
        end_at=contract.end_at,
        tariff_key=str(contract.tariff_id),
        version=".".join(
            str(part)
            for part in (
                contract.pk,
                _stamp(contract.start_at),
                _stamp(contract.end_at),
                _stamp(contract.updated_at),
                _stamp(tariff_updated_at),
            )
        ),
        tariff_version=tariff_version,
        updated_at=contract.updated_at,
    )


def tariff_definition_from_model(tariff: Tariff) -> TariffDefinition:
    """A stored tariff as the interface's value (reads `tariff.rules.all()`)."""
    return tariff_definition_of(tariff, rules=tariff.rules.all())


def tariff_definition_of(tariff: Any, *, rules: Iterable[Any]) -> TariffDefinition:
    """The interface's value of a tariff's stored fields and rules, read as attributes (a
    `Tariff` and its `TariffRule`s, or rows read without building models)."""
    rule_set = RuleSet(
        RateRule(
            months=list(rule.months),
            weekdays=list(rule.weekdays),
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            unit_rate=Decimal(rule.unit_rate),
            tier_to_kwh=None if rule.tier_to_kwh is None else Decimal(rule.tier_to_kwh),
            surcharge_fixed=Decimal(rule.surcharge_fixed),
            surcharge_percentage=Decimal(rule.surcharge_percentage),
        )
        for rule in sorted(rules, key=lambda r: (r.valid_from, r.pk or 0))
    )
    fields = [
        tariff.name,
        tariff.currency,
        tariff.timezone,
        str(tariff.standing_charge),
        tariff.pricing,
        tariff.prices_include_vat,
        tariff.bidding_zone,
        [repr(rule) for rule in rule_set],
    ]
    return TariffDefinition(
        key=str(tariff.pk),
        name=tariff.name,
        currency=tariff.currency,
        timezone=tariff.timezone,
        pricing=tariff.pricing,
        prices_include_vat=tariff.prices_include_vat,
        standing_charge=Decimal(tariff.standing_charge),
        rules=rule_set,
        bidding_zone=tariff.bidding_zone,
        version=f"{_stamp(tariff.updated_at)}.{data_version(fields)}",
        updated_at=tariff.updated_at,
        prices_publish_time=tariff.prices_publish_time,
    )


def _in_force_at(at: dt.datetime) -> Q:
    return Q(start_at__lte=at) & (Q(end_at__isnull=True) | Q(end_at__gt=at))


class LocalTariffSource:
    """Supply points, contracts and tariffs from this server's own database."""

    def supply_points(self, *, customer: CustomerLike) -> list[SupplyPoint]:
        premises = list(Premise.objects.filter(customer_id=customer.pk).order_by("reference"))
        directions: dict[int, set[str]] = {}
        for premise_id, direction in (
            Contract.objects.filter(premise__customer_id=customer.pk)
            .values_list("premise_id", "direction")
            .distinct()
        ):
            directions.setdefault(premise_id, set()).add(direction)
        points = []
        for premise in premises:
            address = PostalAddress(**premise.postal_address())
            for direction in Direction.values:
                # A premise without any contract is still a place: listed for import.
                if direction in directions.get(premise.pk, {Direction.IMPORT}):
                    points.append(
                        SupplyPoint(
                            reference=premise.reference,
                            address=address,
                            direction=direction,
                            meter_point_number=premise.meter_point_number,
                        )
                    )
        return points

    def _contracts(self, *, customer: CustomerLike, reference: str, direction: str) -> Q:
        return Q(premise__customer_id=customer.pk, premise__reference=reference) & Q(
            direction=direction
        )

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        contract = (
            Contract.objects.select_related("premise", "tariff")
            .filter(self._contracts(customer=customer, reference=reference, direction=direction))
            .filter(_in_force_at(at))
            .order_by("-start_at")
            .first()
        )
        return None if contract is None else contract_term_from_model(contract)

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        contracts = (
            Contract.objects.select_related("premise", "tariff")
            .filter(self._contracts(customer=customer, reference=reference, direction=direction))
            .filter(Q(end_at__isnull=True) | Q(end_at__gt=start), start_at__lt=end)
            .order_by("start_at", "pk")
        )
        return [contract_term_from_model(c) for c in contracts]

    def _tariff(self, contract: ContractTerm) -> Tariff:
        tariff = Tariff.objects.prefetch_related("rules").filter(pk=contract.tariff_key).first()
        if tariff is None:  # deleted since the contract was read: contracts PROTECT it
            raise TariffSourceError(f"tariff {contract.tariff_key} no longer exists")
        return tariff

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        return tariff_definition_from_model(self._tariff(contract))

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        tariff = self._tariff(contract)
        if tariff.pricing == Pricing.SCHEDULE:
            raise ValueError("a schedule tariff has no price series; price it by its rules")
        return tariff_prices_between(tariff=tariff, start=start, end=end, now=now or timezone.now())
