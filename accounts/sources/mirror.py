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


@transaction.atomic
def premise_mirror_sync(*, customer: User, points: Sequence[SupplyPoint]) -> list[Premise]:
    """The customer's premises for `points` (one per reference), created or brought up to date.

    A reference already held by another customer is skipped and logged, never moved: its grants
    were given by that customer (a change of tenancy is the platform's to resolve first). A
    premise is saved only when something changed, so its version (and ETags) stay put.
    """
    places: dict[str, SupplyPoint] = {}
    for point in sorted(points, key=lambda p: p.direction != Direction.IMPORT):
        places.setdefault(point.reference, point)
    premises = []
    for reference, point in sorted(places.items()):
        values = {**point.address.as_dict(), "meter_point_number": point.meter_point_number}
        premise, created = Premise.objects.get_or_create(
            reference=reference, defaults={"customer": customer, **values}
        )
        if not created:
            if premise.customer_id != customer.pk:
                logger.warning(
                    "Supply point %s belongs to another customer here; not offered", reference
                )
                continue
            changed = [name for name in _MIRRORED if getattr(premise, name) != values[name]]
            if changed:
                for name in changed:
                    setattr(premise, name, values[name])
                premise.save(update_fields=[*changed, "updated_at"])
        premises.append(premise)
    return premises
