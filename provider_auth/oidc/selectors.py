"""Reads for the OpenID Connect login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from provider_auth.oidc.conf import OidcSettings
from provider_auth.oidc.models import OidcBrowserSession, OidcIdentity


def oidc_identity_get(*, issuer: str, subject: str) -> OidcIdentity | None:
    return (
        OidcIdentity.objects.select_related("customer")
        .filter(issuer=issuer, subject=subject)
        .first()
    )


def oidc_customer_find_by_claims(*, claims: dict[str, Any], config: OidcSettings) -> Any:
    """The active customer the configured claim names, or None. Never creates one.

    `email` counts only when the identity provider says it verified it: an unverified address
    is whatever someone typed at sign-up, and would hand them another person's account.
    """
    user_model = get_user_model()
    claim = config.customer_claim
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        return None
    customers = user_model.objects.filter(is_active=True)
    if claim == "email":
        if claims.get("email_verified") is not True:
            return None
        return customers.filter(email__iexact=value.strip()).first()
    if claim == "account_number":
        return customers.filter(account_number=value.strip()).first()
    return None


def oidc_browser_sessions_for_logout(
    *, issuer: str, subject: str | None, sid: str | None
) -> list[OidcBrowserSession]:
    rows = OidcBrowserSession.objects.filter(identity__issuer=issuer)
    if subject:
        rows = rows.filter(identity__subject=subject)
    if sid:
        rows = rows.filter(sid=sid)
    return list(rows)
