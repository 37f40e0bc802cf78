"""When a grant ends, and why: the earliest of its consent expiry, the end of the supply at its
premise, and revocation.

This module reads plain attributes only, so the token models can call it without an import
cycle and the tariff API's token query can hand it the supply end it already loaded.

The supply at a premise ends when its last contract ends with no successor: every contract has
an end and the latest end has passed (the customer moved out or switched supplier). A renewal
is a successor, so it keeps the grant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.utils import timezone

# Mirrors `provider_auth.oauth.models.GrantEndReason` (that module imports this one).
REVOKED = "grant_revoked"
EXPIRED = "grant_expired"
SUPPLY_ENDED = "supply_ended"

# The attribute a loader sets on a grant instance to the supply end it read with the grant
# (None: no end), so that checking the grant costs no query.
SUPPLY_END_ATTR = "_supply_ends_at"
_UNKNOWN = object()


def supply_end_sql(*, premise_column: str) -> str:
    """A scalar SQL subquery: when the supply at the premise `premise_column` ends (NULL when
    a contract is open-ended or there is none). Identifiers only; no values."""
    from accounts.models import Contract

    table = Contract._meta.db_table
    end = Contract._meta.get_field("end_at").column
    premise = Contract._meta.get_field("premise").column  # type: ignore[union-attr]
    ended = f'CASE WHEN COUNT(*) > 0 AND COUNT(se."{end}") = COUNT(*) THEN MAX(se."{end}") END'
    where = f'se."{premise}" = {premise_column}'
    return f'(SELECT {ended} FROM "{table}" se WHERE {where})'  # noqa: S608


def supply_end_value(value: Any) -> dt.datetime | None:
    """A raw value of `supply_end_sql` as an aware datetime (SQLite returns text for MAX)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def premise_supply_end(*, premise_id: int) -> dt.datetime | None:
    """When the supply at a premise ends (one query): None while a contract is open-ended."""
    from django.db.models import Count, Max

    from accounts.models import Contract

    found = Contract.objects.filter(premise_id=premise_id).aggregate(
        total=Count("id"), ended=Count("end_at"), last=Max("end_at")
    )
    if not found["total"] or found["ended"] < found["total"]:
        return None
    return found["last"]  # type: ignore[no-any-return]


def grant_supply_end(grant: Any) -> dt.datetime | None:
    cached: Any = getattr(grant, SUPPLY_END_ATTR, _UNKNOWN)
    if cached is _UNKNOWN:
        cached = premise_supply_end(premise_id=grant.premise_id)
        setattr(grant, SUPPLY_END_ATTR, cached)
    return cast("dt.datetime | None", cached)


def grant_end_reason(grant: Any, *, now: dt.datetime | None = None) -> str | None:
    """Why `grant` no longer works (`grant_revoked`, `grant_expired`, `supply_ended`), or None
    while it may. A pending grant has not ended. Compares the end itself: nothing waits for
    `manage.py cleanup` to record it."""
    if grant.status == "REVOKED":
        return grant.end_reason or REVOKED
    now = now or timezone.now()
    if grant.consent_expires_at is not None and grant.consent_expires_at <= now:
        return EXPIRED
    supply_end = grant_supply_end(grant)
    if supply_end is not None and supply_end <= now:
        return SUPPLY_ENDED
    return None


def grant_ends_at(grant: Any) -> dt.datetime | None:
    """The date a working grant is promised to end by: its consent expiry, if any.

    A fixed-term contract's end date is not shown as the grant's end: a renewal usually comes
    later and keeps the grant; the supply's end is stated as a condition instead.
    """
    return grant.consent_expires_at  # type: ignore[no-any-return]


def client_consent_expiry(client: Any, *, now: dt.datetime) -> dt.datetime | None:
    """When a grant given now to `client` expires by itself (its `consent_days`), or None."""
    days = client.consent_days
    return now + dt.timedelta(days=days) if days else None


def grant_terms(client: Any, *, now: dt.datetime) -> dict[str, Any]:
    """The lifecycle fields of a new grant for `client`: its stated purpose and expiry."""
    return {"purpose": client.purpose, "consent_expires_at": client_consent_expiry(client, now=now)}
