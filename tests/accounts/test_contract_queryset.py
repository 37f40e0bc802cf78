"""`Contract.objects.in_force(at)` and `.overlapping(start, end)`: the one definition of "a
contract in force" that every query (and, in memory, `is_in_force` / `overlaps`) shares."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Contract

UTC = dt.UTC
JAN = dt.datetime(2026, 1, 1, tzinfo=UTC)
FEB = dt.datetime(2026, 2, 1, tzinfo=UTC)
MAR = dt.datetime(2026, 3, 1, tzinfo=UTC)
APR = dt.datetime(2026, 4, 1, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def contracts(make_contract, make_premise):
    premise = make_premise()
    return {
        "jan-feb": make_contract(premise=premise, start_at=JAN, end_at=FEB),
        "mar-open": make_contract(premise=premise, start_at=MAR, end_at=None),
    }


def _names(queryset, contracts) -> set[str]:
    pks = set(queryset.values_list("pk", flat=True))
    return {name for name, contract in contracts.items() if contract.pk in pks}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (JAN - SECOND, set()),
        (JAN, {"jan-feb"}),  # the start is inclusive
        (FEB - SECOND, {"jan-feb"}),
        (FEB, set()),  # the end is exclusive
        (MAR, {"mar-open"}),
        (APR + dt.timedelta(days=3650), {"mar-open"}),  # a null end is open
    ],
)
def test_in_force_at_an_instant(contracts, at, expected) -> None:
    assert _names(Contract.objects.in_force(at), contracts) == expected
    assert {n for n, c in contracts.items() if c.is_in_force(at)} == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (FEB, MAR, set()),  # the gap between them
        (FEB - SECOND, MAR, {"jan-feb"}),
        (FEB, MAR + SECOND, {"mar-open"}),
        (JAN - SECOND, APR, {"jan-feb", "mar-open"}),
        (FEB, None, {"mar-open"}),  # an open range
        (JAN, JAN, {"jan-feb"}),  # an empty range asks for the instant
    ],
)
def test_overlapping_a_range(contracts, start, end, expected) -> None:
    assert _names(Contract.objects.overlapping(start, end), contracts) == expected
    if end is None or start < end:
        assert {n for n, c in contracts.items() if c.overlaps(start, end)} == expected
