"""Reads for the tariff API that our own database answers: the bearer token (query 1) and a
tariff with its rules.

Query 1 (`access_token_get_for_polling`) is the bearer token by digest with its grant, client
and premise and — for `/api/v1/tariff` — the premise's contracts in force, each with its
tariff's version. That is everything the tariff document's ETag depends on except the rate rules
(versioned by `tariff.updated_at`), so an unchanged document is answered 304 after one query.
The rest is read through the tariff source (`local_source` for our own database).

`contract_list_overlapping` is the ORM's statement of the range query that `sql` writes by hand;
the tests hold the two equal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F

from accounts.models import (
    Contract,
    Premise,
    Pricing,
    Tariff,
    TariffRule,
    contract_overlapping_q,
)
from provider_auth.oauth.models import AccessToken
from provider_auth.tariff_api import sql


def rules_cache_fill(tariff: Any, rules: list[TariffRule]) -> None:
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
    rows = (
        TariffRule.objects.select_related("tariff")
        .filter(
            # One filter() call: every condition applies to the same contract (one join).
            contract_overlapping_q(start, end, prefix="tariff__contracts__"),
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
        rules_cache_fill(contract.tariff, rules[pk])
    return list(contracts.values())


# --- Query 1: the bearer token and what the tariff document's version depends on --------------


@dataclass(frozen=True)
class PollingToken:
    """An access token loaded with its grant, the grant's client and premise (`token.grant`,
    `.client`, `.premise`) and, when asked for at an instant `at`, the premise's contracts in
    force then with their tariffs' versions (`in_force`, oldest start first; None when not
    asked)."""

    token: AccessToken
    at: dt.datetime | None = None
    in_force: tuple[sql.ContractRow, ...] | None = None


def access_token_get_for_polling(*, token_hash: str, at: dt.datetime | None) -> PollingToken | None:
    """The access token stored under `token_hash` with its grant, client and premise, and —
    when `at` is given — the premise's contracts in force at `at`. One query; None when no such
    token exists.

    The token is *not* validated here: see `provider_auth.oauth.server.access_token_validate`.
    Hand-written SQL (`sql.polling_token_fetch`): the ORM's version of this query costs several
    times the CPU on our most frequent request (see `docs/performance.md`).
    """
    found = sql.polling_token_fetch(token_hash=token_hash, at=at)
    if found is None:
        return None
    token, rows = found
    return PollingToken(token=token, at=at, in_force=None if at is None else tuple(rows))


# --- A tariff with its rules, for a document -------------------------------------------------


def tariff_get_with_rules(*, tariff_id: int) -> Tariff | None:
    """The tariff whose `rules.all()` is loaded — one query while it has rules (every schedule
    and market-indexed tariff), two for a published-prices tariff without any."""
    rules = list(TariffRule.objects.select_related("tariff").filter(tariff_id=tariff_id))
    tariff: Tariff | None
    if rules:
        tariff = rules[0].tariff
    else:
        tariff = Tariff.objects.filter(pk=tariff_id).exclude(pricing=Pricing.SCHEDULE).first()
        if tariff is None:  # gone, or a schedule with no rules: no document can be made of it
            return None
    rules_cache_fill(tariff, rules)
    return tariff
