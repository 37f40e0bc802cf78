"""Our `Premise` rows for a billing platform's supply points.

A grant names one of our premises; when supply points come from a platform, the place the
customer chose is recorded here (reference, address, meter point) so the grant, the audit trail
and the connected-apps page can name it. Contracts and tariffs are never copied: they are read
from the source each time (through its cache).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction

from accounts.models import Direction, Premise, User
from accounts.sources.base import SupplyPoint

logger = logging.getLogger(__name__)

_MIRRORED = (
    "address_line1",
    "address_line2",
    "city",
    "state",
    "post_code",
    "country_code",
    "meter_point_number",
)


def premise_mirror_sync(*, customer: User, points: Sequence[SupplyPoint]) -> list[Premise]:
    """The customer's premises for `points` (one per reference), created or brought up to date.

    A reference already held by another customer is skipped and logged, never moved: its grants
    were given by that customer (a change of tenancy is the platform's to resolve first). A
    premise is saved only when something changed, so its version (and ETags) stay put. When
    every place is recorded as it is, this is one read and writes nothing: always so with our
    database as the source, whose supply points are our premises.
    """
    places: dict[str, dict[str, str]] = {}
    for point in sorted(points, key=lambda p: p.direction != Direction.IMPORT):
        places.setdefault(
            point.reference,
            {**point.address.as_dict(), "meter_point_number": point.meter_point_number},
        )
    if not places:
        return []
    recorded = {p.reference: p for p in Premise.objects.filter(reference__in=places)}
    outdated = [
        reference
        for reference, values in places.items()
        if not _up_to_date(recorded.get(reference), customer=customer, values=values)
    ]
    if outdated:
        with transaction.atomic():
            for reference in outdated:
                recorded[reference] = _premise_record(
                    customer=customer, reference=reference, values=places[reference]
                )
    premises = []
    for reference in sorted(places):
        premise = recorded[reference]
        if premise.customer_id != customer.pk:
            logger.warning(
                "Supply point %s belongs to another customer here; not offered", reference
            )
            continue
        premises.append(premise)
    return premises


def _up_to_date(premise: Premise | None, *, customer: User, values: dict[str, str]) -> bool:
    """Nothing to write: recorded as the source has it, or another customer's (never moved)."""
    if premise is None:
        return False
    if premise.customer_id != customer.pk:
        return True
    return all(getattr(premise, name) == values[name] for name in _MIRRORED)


def _premise_record(*, customer: User, reference: str, values: dict[str, str]) -> Premise:
    # Read again in the transaction: a parallel request may have recorded it meanwhile.
    premise, created = Premise.objects.get_or_create(
        reference=reference, defaults={"customer": customer, **values}
    )
    if not created and premise.customer_id == customer.pk:
        changed = [name for name in _MIRRORED if getattr(premise, name) != values[name]]
        if changed:
            for name in changed:
                setattr(premise, name, values[name])
            premise.save(update_fields=[*changed, "updated_at"])
    return premise
