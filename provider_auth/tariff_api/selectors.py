"""Reads for the tariff API, folded to fit its budget of two queries per request.

Query 1 is the bearer token (by digest) with its grant, premise and client
(`provider_auth.oauth.server.access_token_lookup`). Query 2 is this module: the rate rules of
every contract of the premise that overlaps a time range, each row carrying its tariff (join)
and its contract's fields (the join through `tariff.contracts` that the filter set up). From
those rows we rebuild `Contract` objects whose `tariff.rules.all()` is already filled, exactly
as `prefetch_related` would leave it — so `accounts.tariffs` runs without touching the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q

from accounts.models import Contract, Premise, TariffRule


def _rules_cache_fill(tariff: Any, rules: list[TariffRule]) -> None:
    # What django.db.models.query.prefetch_one_level does for a reverse foreign key.
    queryset = tariff.rules.all()
    queryset._result_cache = rules
    queryset._prefetch_done = True
    tariff._prefetched_objects_cache = {"rules": queryset}


def contract_list_overlapping(
    *, premise: Premise, direction: str, start: dt.datetime, end: dt.datetime
) -> list[Contract]:
    """Contracts of `premise` in `direction` overlapping [start, end), oldest first, with their
    tariff and rules loaded — in one query. `start == end` asks for the contract at an instant.
    """
    overlap = (
        Q(tariff__contracts__start_at__lte=start)
        if start == end
        else Q(tariff__contracts__start_at__lt=end)
    )
    rows = (
        TariffRule.objects.select_related("tariff")
        .filter(
            overlap,
            Q(tariff__contracts__end_at__isnull=True) | Q(tariff__contracts__end_at__gt=start),
            tariff__contracts__premise_id=premise.pk,
            tariff__contracts__direction=direction,
        )
        # F() reuses the join the filter created, so these are the matching contract's fields.
        .annotate(
            contract_pk=F("tariff__contracts__id"),
            contract_start_at=F("tariff__contracts__start_at"),
            contract_end_at=F("tariff__contracts__end_at"),
            contract_updated_at=F("tariff__contracts__updated_at"),
        )
        .order_by("tariff__contracts__start_at", "id")
    )
    contracts: dict[int, Contract] = {}
    rules: dict[int, list[TariffRule]] = {}
    for row in rows:
        contract = contracts.get(row.contract_pk)
        if contract is None:
            contract = Contract(
                pk=row.contract_pk,
                premise=premise,
                tariff=row.tariff,
                direction=direction,
                start_at=row.contract_start_at,
                end_at=row.contract_end_at,
                updated_at=row.contract_updated_at,
            )
            contract._state.adding = False
            contract._state.db = "default"
            contracts[row.contract_pk] = contract
            rules[row.contract_pk] = []
        rules[row.contract_pk].append(row)
    for pk, contract in contracts.items():
        _rules_cache_fill(contract.tariff, rules[pk])
    return list(contracts.values())


def contract_get_current(*, premise: Premise, direction: str, at: dt.datetime) -> Contract | None:
    """The contract in force at `at` (the latest-starting one, should two ever overlap)."""
    found = contract_list_overlapping(premise=premise, direction=direction, start=at, end=at)
    return found[-1] if found else None
