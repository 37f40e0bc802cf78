"""Writes of the security features (customer preferences)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from provider_auth.audit.services import audit_record


@transaction.atomic
def user_otp_preference_set(
    *, user: User, enabled: bool, request: HttpRequest | None = None
) -> User:
    """Switch the emailed one-time code at login on or off for a customer."""
    if user.requires_email_otp != enabled:
        user.requires_email_otp = enabled
        user.save(update_fields=["requires_email_otp"])
        audit_record(
            event="security.otp_enabled" if enabled else "security.otp_disabled",
            customer=user,
            actor=user,
            request=request,
        )
    return user
