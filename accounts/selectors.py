"""Reads of the provider's domain. Keyword-only, typed, named entity-first."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Contract, Premise, User


def premise_list_for_customer(*, customer: User) -> QuerySet[Premise]:
    return Premise.objects.filter(customer=customer).order_by("reference")


def _active_at(at: dt.datetime) -> Q:
    return Q(start_at__lte=at) & (Q(end_at__isnull=True) | Q(end_at__gt=at))


def contract_get_active(
    *, premise: Premise, direction: str, at: dt.datetime | None = None
) -> Contract | None:
    """The contract in force for a premise and direction at an instant (now by default)."""
    at = at or timezone.now()
    return (
        Contract.objects.select_related("tariff", "premise")
        .filter(_active_at(at), premise=premise, direction=direction)
        .order_by("-start_at")
        .first()
    )


def premise_list_with_active_contract(
    *, customer: User, direction: str, at: dt.datetime | None = None
) -> QuerySet[Premise]:
    """The customer's premises that have a contract in force in `direction` at `at`."""
    at = at or timezone.now()
    contract_filter = (
        Q(contracts__direction=direction)
        & Q(contracts__start_at__lte=at)
        & (Q(contracts__end_at__isnull=True) | Q(contracts__end_at__gt=at))
    )
    return (
        Premise.objects.filter(customer=customer)
        .filter(contract_filter)
        .distinct()
        .order_by("reference")
    )
