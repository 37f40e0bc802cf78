"""Writes of the security features (customer preferences)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User
from provider_auth.audit.services import audit_record

logger = logging.getLogger(__name__)


def _otp_change_notify(*, user: User, enabled: bool) -> None:
    """Tell the customer their login changed (ASVS 2.2.3): an intruder cannot do it silently."""
    if enabled:
        body = _(
            "A one-time code sent by email is now required each time you log in to your "
            "%(brand)s account."
        )
    else:
        body = _(
            "Your %(brand)s account no longer asks for a one-time code sent by email when you "
            "log in. If you did not change this, change your password and contact us."
        )
    try:
        send_mail(
            _("Your %(brand)s login settings changed") % {"brand": settings.BRAND_NAME},
            body % {"brand": settings.BRAND_NAME},
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except Exception:  # the change is made; a failed notice must not undo or hide it
        logger.exception("login-settings notice could not be sent", extra={"user_id": user.pk})


@transaction.atomic
def user_otp_preference_set(
    *, user: User, enabled: bool, request: HttpRequest | None = None
) -> User:
    """Switch the emailed one-time code at login on or off for a customer, and tell them."""
    if user.requires_email_otp != enabled:
        user.requires_email_otp = enabled
        user.save(update_fields=["requires_email_otp"])
        audit_record(
            event="security.otp_enabled" if enabled else "security.otp_disabled",
            customer=user,
            actor=user,
            request=request,
        )
        transaction.on_commit(lambda: _otp_change_notify(user=user, enabled=enabled))
    return user
