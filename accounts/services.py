"""Writes of the provider's domain. Keyword-only, typed, atomic, named entity-first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Contract, Direction, Premise, Tariff, TariffRule
from accounts.tariffs import tariff_rules_validate


class RuleSpec(TypedDict, total=False):
    """A rate rule as data: months 1-12, weekdays 0 (Mon)-6, "HH:MM" windows up to "24:00"."""

    months: list[int]
    weekdays: list[int]
    valid_from: str
    valid_to: str
    unit_rate: Decimal
    tier_to_kwh: Decimal | None


def tariff_rules_build(*, tariff: Tariff, rules: Sequence[RuleSpec]) -> list[TariffRule]:
    """Unsaved, field-validated TariffRule objects for `tariff` (ValidationError otherwise)."""
    built = []
    for spec in rules:
        tier = spec.get("tier_to_kwh")
        rule = TariffRule(
            tariff=tariff,
            months=list(spec.get("months") or range(1, 13)),
            weekdays=list(spec.get("weekdays") or range(7)),
            valid_from=spec["valid_from"],
            valid_to=spec["valid_to"],
            unit_rate=Decimal(spec["unit_rate"]),
            tier_to_kwh=None if tier is None else Decimal(tier),
        )
        rule.full_clean(exclude=["tariff"])
        built.append(rule)
    tariff_rules_validate(rules=built)
    return built


@transaction.atomic
def tariff_save_with_rules(
    *,
    name: str,
    currency: str,
    timezone_name: str,
    standing_charge: Decimal,
    rules: Sequence[RuleSpec],
    tariff: Tariff | None = None,
) -> Tariff:
    """Create (or replace the fields and rules of) a tariff; the rule set is validated whole."""
    tariff = tariff or Tariff()
    tariff.name = name
    tariff.currency = currency
    tariff.timezone = timezone_name
    tariff.standing_charge = Decimal(standing_charge)
    tariff.rules_checked_elsewhere = True  # the new rule set is validated just below
    tariff.full_clean()
    built = tariff_rules_build(tariff=tariff, rules=rules)
    tariff.save()  # bumps updated_at, which the tariff API uses for caching
    tariff.rules.all().delete()
    for rule in built:
        rule.tariff = tariff
    TariffRule.objects.bulk_create(built)
    return tariff


@transaction.atomic
def contract_create(
    *,
    premise: Premise,
    tariff: Tariff,
    direction: str = Direction.IMPORT,
    start_at: dt.datetime,
    end_at: dt.datetime | None = None,
) -> Contract:
    """A new contract; ValidationError if another one of the premise and direction overlaps.

    The premise row is locked so two concurrent creations cannot both pass the overlap check
    (on PostgreSQL the exclusion constraint is the final guard).
    """
    Premise.objects.select_for_update().filter(pk=premise.pk).first()
    contract = Contract(
        premise=premise, tariff=tariff, direction=direction, start_at=start_at, end_at=end_at
    )
    contract.full_clean()
    _contract_save(contract)
    return contract


def _contract_save(contract: Contract) -> None:
    # The PostgreSQL exclusion constraint is the last word under concurrency: report it like
    # the clean() check instead of letting an IntegrityError become a 500.
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as e:
        raise ValidationError(
            _("Another contract of this premise and direction overlaps this period."),
            code="contract_overlap",
        ) from e


def contract_update(*, contract: Contract, **fields: Any) -> Contract:
    """Change a contract's fields with the same validation as creation."""
    with transaction.atomic():
        Premise.objects.select_for_update().filter(pk=contract.premise_id).first()
        for name, value in fields.items():
            setattr(contract, name, value)
        contract.full_clean()
        _contract_save(contract)
    return contract
