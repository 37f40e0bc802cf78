"""Supply points from a billing platform become our premises, so grants can name them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Premise, User
from accounts.sources.base import PostalAddress, SupplyPoint
from accounts.sources.local import LocalTariffSource
from accounts.sources.mirror import premise_mirror_sync

pytestmark = pytest.mark.django_db

HOME = PostalAddress("10 Demo Road", "Flat 2", "Testbury", "", "ZZ1 1ZZ", "GB")


def point(reference: str = "KRP-1000001", direction: str = "IMPORT", **address: str) -> SupplyPoint:
    mpan = "1900000000001" if direction == "IMPORT" else "1900000000002"
    return SupplyPoint(reference, PostalAddress(**{**HOME.as_dict(), **address}), direction, mpan)


def test_a_supply_point_becomes_one_premise_of_the_customer(
    make_customer: Callable[..., User],
) -> None:
    customer = make_customer()
    [premise] = premise_mirror_sync(customer=customer, points=[point(direction="EXPORT"), point()])
    assert (premise.reference, premise.customer, premise.meter_point_number) == (
        "KRP-1000001",
        customer,
        "1900000000001",  # the import meter point names the place
    )
    assert premise.postal_address() == HOME.as_dict()


def test_syncing_again_updates_the_address_and_saves_only_on_change(
    make_customer: Callable[..., User],
) -> None:
    customer = make_customer()
    [first] = premise_mirror_sync(customer=customer, points=[point()])
    [same] = premise_mirror_sync(customer=customer, points=[point()])
    assert same.updated_at == first.updated_at
    [moved] = premise_mirror_sync(customer=customer, points=[point(city="Newtown")])
    assert moved.pk == first.pk and moved.city == "Newtown"
    assert moved.updated_at > first.updated_at
    assert Premise.objects.count() == 1


def test_a_reference_held_by_another_customer_is_never_moved(
    make_customer: Callable[..., User], make_premise: Callable[..., Premise]
) -> None:
    other = make_premise(reference="KRP-1000001")
    assert premise_mirror_sync(customer=make_customer(), points=[point()]) == []
    other.refresh_from_db()
    assert other.address_line1 != "10 Demo Road"


def test_our_own_premises_as_supply_points_are_one_read_and_no_write(
    make_customer: Callable[..., User],
    make_premise: Callable[..., Premise],
    make_contract: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    # With our database as the tariff source its supply points are our premises: the mirror
    # finds every one recorded as it is.
    customer = make_customer()
    home = make_premise(customer=customer, meter_point_number="1900000000001")
    make_contract(premise=home, direction="IMPORT")
    make_contract(premise=home, direction="EXPORT")
    make_premise(customer=customer, address_line2="Flat 2")
    points = LocalTariffSource().supply_points(customer=customer)
    assert len(points) == 3
    with django_assert_num_queries(1):
        premises = premise_mirror_sync(customer=customer, points=points)
    assert premises == list(Premise.objects.filter(customer=customer).order_by("reference"))
    assert [p.updated_at for p in premises] == [
        p.updated_at for p in Premise.objects.order_by("reference")
    ]
