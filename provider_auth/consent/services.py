"""Writes of a grant's life that no request triggers: ending grants whose end has passed."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Contract
from provider_auth.oauth.models import Grant, GrantEndReason, GrantStatus
from provider_auth.oauth.services import grant_revoke


def grants_end_due(*, now: dt.datetime | None = None) -> int:
    """End (REVOKED with `end_reason`, audit event, mail) every working grant whose
    consent expired or whose premise's supply ended; returns how many.

    Only the record needs this job: the token checks compare the end themselves
    (`provider_auth.consent.lifecycle.grant_end_reason`).
    """
    now = now or timezone.now()
    live = Grant.objects.filter(status=GrantStatus.ACTIVE)
    count = 0
    expired = live.filter(consent_expires_at__lte=now).select_related("client", "customer")
    for grant in expired:
        grant_revoke(grant=grant, reason="consent_expired", end_reason=GrantEndReason.EXPIRED)
        count += 1
    # The supply ended: the premise has contracts and none is open-ended or still running.
    contracts = Contract.objects.filter(premise_id=OuterRef("premise_id"))
    running = contracts.filter(Q(end_at__isnull=True) | Q(end_at__gt=now))
    ended = live.filter(Exists(contracts), ~Exists(running)).select_related("client", "customer")
    for grant in ended:
        grant_revoke(grant=grant, reason="supply_ended", end_reason=GrantEndReason.SUPPLY_ENDED)
        count += 1
    return count
