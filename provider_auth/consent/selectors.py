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
