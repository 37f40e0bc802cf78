"""Reads of a grant's life: the terms the consent page states, the customer's grants with their
ends, and the customer's record of permissions built from the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from provider_auth.consent import scopes
from provider_auth.consent.lifecycle import client_consent_expiry


@dataclass(frozen=True)
class ConsentTerms:
    """What the consent page promises: purpose, data types (scopes) and expiry, if any."""

    purpose: str
    scope: frozenset[str]
    data_types: list[str]
    expires_at: dt.datetime | None


def consent_terms(*, client: Any, scope: str, now: dt.datetime | None = None) -> ConsentTerms:
    now = now or timezone.now()
    return ConsentTerms(
        purpose=scopes.purpose_label(client.purpose if client else scopes.PURPOSE_TARIFF_SYNC),
        scope=scopes.scope_set(scope),
        data_types=scopes.scope_labels(scope),
        expires_at=client_consent_expiry(client, now=now) if client else None,
    )


def connect_session_consent_terms(*, session: Any) -> ConsentTerms:
    """The terms of the grant a connect session would create: FlatPeak's client and every data
    type for FlatPeak's flow, the requesting client and its requested scope for OAuth."""
    from provider_auth.connect.models import FlowKind
    from provider_auth.connect.selectors import flatpeak_oauth_client_get
    from provider_auth.oauth.models import OAuthClient

    if session.kind == FlowKind.OAUTH:
        context = session.context or {}
        client = OAuthClient.objects.filter(client_id=context.get("client_id", "")).first()
        return consent_terms(client=client, scope=context.get("scope", ""))
    from provider_auth.connect.services import SCOPE

    return consent_terms(client=flatpeak_oauth_client_get(), scope=SCOPE)


# --- The customer's grants and their record ----------------------------------------------------

# Audit events that record a permission or a change to one.
RECORD_EVENTS = (
    "consent.given",
    "consent.denied",
    "consent.cancelled",
    "oauth.code_issued",
    "oauth.code_redeemed",
    "grant.issued",
    "grant.activated",
    "grant.revoked",
)


def grant_list_for_customer(*, customer: Any) -> tuple[list[Any], list[Any]]:
    """The customer's grants that work now and those that ended (newest first), each with
    `.ends_at` (when it will end by itself, or None) and `.ended_reason` (None while working).

    Pending grants never worked and are not shown. A grant whose end passed before
    `manage.py cleanup` recorded it is already listed as ended, with its reason. One query.
    """
    from django.db.models.expressions import RawSQL

    from provider_auth.consent.lifecycle import (
        SUPPLY_END_ATTR,
        grant_end_reason,
        grant_ends_at,
        supply_end_sql,
        supply_end_value,
    )
    from provider_auth.oauth.models import Grant, GrantStatus

    table = Grant._meta.db_table
    grants = (
        Grant.objects.filter(customer=customer, activated_at__isnull=False)
        .exclude(status=GrantStatus.PENDING)
        .select_related("premise", "client")
        .annotate(
            # Identifiers from the model only (see supply_end_sql); no values.
            supply_end_raw=RawSQL(supply_end_sql(premise_column=f'"{table}"."premise_id"'), [])  # noqa: S611
        )
        .order_by("-activated_at", "-pk")
    )
    active: list[Any] = []
    ended: list[Any] = []
    now = timezone.now()
    grant: Any
    for grant in grants:
        setattr(grant, SUPPLY_END_ATTR, supply_end_value(grant.supply_end_raw))
        grant.ended_reason = grant_end_reason(grant, now=now)
        grant.ends_at = grant_ends_at(grant)
        grant.data_types = scopes.scope_labels(grant.scope)
        grant.purpose_label = scopes.purpose_label(grant.purpose)
        if grant.ended_reason is None:
            active.append(grant)
        else:
            grant.ended_at = grant.revoked_at or min(
                v for v in (grant.consent_expires_at, getattr(grant, SUPPLY_END_ATTR)) if v
            )
            ended.append(grant)
    ended.sort(key=lambda g: g.ended_at, reverse=True)
    return active, ended


def _actor(event: Any) -> str:
    if event.actor_id is None:
        return "system"
    return "customer" if event.actor_id == event.customer_id else "staff"


def permission_record(*, customer: Any) -> dict[str, Any]:
    """Every permission the customer gave and every change to them, from the audit log (as far
    back as AUDIT_RETENTION_DAYS keeps it), for this customer only."""
    from provider_auth.audit.models import AuditEvent
    from provider_auth.oauth.models import Grant

    names: dict[Any, str] = {
        g.pk: g.display_name or g.client.name
        for g in Grant.objects.filter(customer=customer).select_related("client")
    }
    active, ended = grant_list_for_customer(customer=customer)
    permissions = [
        {
            "grant_id": g.pk,
            "partner": g.display_name or g.client.name,
            "purpose": g.purpose,
            "data_types": sorted(scopes.scope_set(g.scope)),
            "premise": g.premise.reference,
            "since": _iso(g.activated_at),
            "until": _iso(g.ends_at),
            "last_used": g.last_used_at.date().isoformat() if g.last_used_at else None,
            "ended_at": _iso(getattr(g, "ended_at", None)),
            "end_reason": g.ended_reason,
        }
        for g in [*active, *ended]
    ]
    events = AuditEvent.objects.filter(customer=customer, event__in=RECORD_EVENTS).order_by(
        "created_at", "id"
    )
    changes = []
    for event in events:
        detail = event.detail or {}
        grant_id = detail.get("grant_id")
        changes.append(
            {
                "at": _iso(event.created_at),
                "event": event.event,
                "grant_id": grant_id,
                "partner": names.get(grant_id) or detail.get("flatpeak_account_name") or "",
                "premise": detail.get("premise") or "",
                "data_types": detail.get("scope", ""),
                "reason": detail.get("end_reason") or detail.get("reason") or "",
                "by": _actor(event),
            }
        )
    return {
        "customer": customer.email,
        "generated_at": _iso(timezone.now()),
        "permissions": permissions,
        "changes": changes,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


RECORD_CSV_COLUMNS = ("at", "event", "grant_id", "partner", "premise", "data_types", "reason", "by")
