"""The default source answers exactly what the database and the existing selectors say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Contract, Direction, Premise, Pricing, Tariff, TariffRule, User
from accounts.selectors import contract_get_active
from accounts.sources import tariff_source
from accounts.sources.base import TariffSource
from accounts.sources.local import LocalTariffSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> LocalTariffSource:
    return LocalTariffSource()


def test_the_local_source_is_the_default_and_implements_the_interface() -> None:
    assert isinstance(tariff_source(), LocalTariffSource)
    assert isinstance(tariff_source(), TariffSource)


def test_supply_points_are_the_customers_premises_by_direction(
    source: LocalTariffSource,
    make_customer: Callable[..., User],
    make_premise: Callable[..., Premise],
    make_contract: Callable[..., Contract],
) -> None:
    customer = make_customer()
    home = make_premise(
        customer=customer, reference="PRM-000001", meter_point_number="1900000000009"
    )
    flat = make_premise(customer=customer, reference="PRM-000002", address_line2="Flat 1")
    make_premise()  # someone else's
    make_contract(premise=home, direction=Direction.IMPORT)
    make_contract(premise=home, direction=Direction.EXPORT)
    points = source.supply_points(customer=customer)
    assert [(p.reference, p.direction, p.meter_point_number) for p in points] == [
        ("PRM-000001", "IMPORT", "1900000000009"),
        ("PRM-000001", "EXPORT", "1900000000009"),
        ("PRM-000002", "IMPORT", ""),
    ]
    assert points[2].address.as_dict() == flat.postal_address()


def test_the_contract_in_force_is_the_selectors_contract(
    source: LocalTariffSource,
    make_premise: Callable[..., Premise],
    make_contract: Callable[..., Contract],
    make_tariff: Callable[..., Tariff],
) -> None:
    premise = make_premise()
    now = timezone.now()
    old = make_contract(premise=premise, start_at=now - dt.timedelta(days=30), end_at=now)
    new = make_contract(premise=premise, start_at=now, end_at=None, tariff=make_tariff(name="New"))
    for at, expected in ((now - dt.timedelta(seconds=1), old), (now, new)):
        term = source.contract_in_force(
            customer=premise.customer, reference=premise.reference, direction="IMPORT", at=at
        )
        assert contract_get_active(premise=premise, direction="IMPORT", at=at) == expected
        assert term is not None and term.tariff_key == str(expected.tariff_id)
        assert (term.start_at, term.end_at) == (expected.start_at, expected.end_at)
    assert (
        source.contract_in_force(
            customer=premise.customer, reference=premise.reference, direction="EXPORT", at=now
        )
        is None
    )
    both = source.contracts_overlapping(
        customer=premise.customer,
        reference=premise.reference,
        direction="IMPORT",
        start=now - dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=1),
    )
    assert [c.tariff_key for c in both] == [str(old.tariff_id), str(new.tariff_id)]


def test_another_customers_premise_is_never_answered(
    source: LocalTariffSource,
    make_customer: Callable[..., User],
    make_contract: Callable[..., Contract],
) -> None:
    contract = make_contract()
    assert (
        source.contract_in_force(
            customer=make_customer(),
            reference=contract.premise.reference,
            direction="IMPORT",
            at=timezone.now(),
        )
        is None
    )


def test_the_tariff_is_our_model_and_its_version_follows_its_rules(
    source: LocalTariffSource,
    make_contract: Callable[..., Contract],
    make_tariff: Callable[..., Tariff],
) -> None:
    tariff = make_tariff(
        standing_charge="0.5012", rules=[("00:00", "07:00", "0.1"), ("07:00", "24:00", "0.249")]
    )
    contract = make_contract(tariff=tariff)
    now = timezone.now()
    term = source.contract_in_force(
        customer=contract.premise.customer,
        reference=contract.premise.reference,
        direction="IMPORT",
        at=now,
    )
    assert term is not None
    definition = source.tariff(contract=term, at=now)
    assert (definition.name, definition.currency, definition.timezone) == (
        "Fixed Saver",
        "GBP",
        "Europe/London",
    )
    assert definition.pricing == Pricing.SCHEDULE
    assert definition.standing_charge == Decimal("0.5012")
    assert [(r.valid_from, r.valid_to, r.unit_rate) for r in definition.rules] == [
        ("00:00", "07:00", Decimal("0.1000")),
        ("07:00", "24:00", Decimal("0.2490")),
    ]
    TariffRule.objects.filter(tariff=tariff, valid_from="07:00").update(unit_rate=Decimal("0.3"))
    assert source.tariff(contract=term, at=now).version != definition.version


def test_a_schedule_tariff_has_no_price_series(
    source: LocalTariffSource, make_contract: Callable[..., Contract]
) -> None:
    contract = make_contract()
    now = timezone.now()
    term = source.contract_in_force(
        customer=contract.premise.customer,
        reference=contract.premise.reference,
        direction="IMPORT",
        at=now,
    )
    assert term is not None
    with pytest.raises(ValueError, match="schedule"):
        source.prices_between(contract=term, start=now, end=now + dt.timedelta(hours=1))


def test_published_prices_come_from_the_price_selectors(
    source: LocalTariffSource,
    make_contract: Callable[..., Contract],
    make_tariff: Callable[..., Tariff],
) -> None:
    from accounts.models import PublishedPrice

    tariff = make_tariff()
    Tariff.objects.filter(pk=tariff.pk).update(pricing=Pricing.PUBLISHED)
    start = dt.datetime(2026, 10, 25, 0, tzinfo=dt.UTC)
    PublishedPrice.objects.create(
        tariff=tariff,
        valid_from=start,
        valid_to=start + dt.timedelta(minutes=30),
        value=Decimal("-0.024255"),
        published_at=start - dt.timedelta(days=1),
    )
    contract = make_contract(tariff=tariff, start_at=start - dt.timedelta(days=1), end_at=None)
    term = source.contract_in_force(
        customer=contract.premise.customer,
        reference=contract.premise.reference,
        direction="IMPORT",
        at=start,
    )
    assert term is not None
    series = source.prices_between(contract=term, start=start, end=start + dt.timedelta(hours=1))
    assert [(i.valid_from, i.rate) for i in series.intervals] == [(start, Decimal("-0.024255"))]
