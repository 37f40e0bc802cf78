"""Mails to the customer about their grants: one when a grant starts working, one when it ends
for a reason they did not choose (expiry, the supply ending).

Sent only once the transaction that made the change commits (`transaction.on_commit`): a
rolled-back grant never announces itself. Sending happens after the commit, so a mail server
failure is logged and loses neither the grant nor the decision.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from provider_auth.consent import scopes
from provider_auth.consent.lifecycle import EXPIRED, SUPPLY_ENDED, grant_ends_at

logger = logging.getLogger(__name__)


def _record_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("connected_apps:list")


def _partner(grant: Any) -> str:
    return grant.display_name or grant.client.name


def grant_started_mail(*, grant: Any) -> tuple[str, str]:
    """Subject and body of the mail for a grant that now works."""
    partner = _partner(grant)
    subject = _("%(partner)s can now read your tariff") % {"partner": partner}
    lines = [
        _("You allowed %(partner)s to read data about your energy supply at %(address)s.")
        % {"partner": partner, "address": grant.premise.one_line_address},
        "",
        _("Purpose: %(purpose)s") % {"purpose": scopes.purpose_label(grant.purpose)},
        _("Data shared:"),
        *[f"- {label}" for label in scopes.scope_labels(grant.scope)],
    ]
    ends = grant_ends_at(grant)
    if ends is not None:
        lines.append(_("Until: %(date)s") % {"date": formats.date_format(ends, "DATE_FORMAT")})
    lines += [
        "",
        _("You can revoke this at any time, and download a record of your permissions, at:"),
        _record_url(),
    ]
    return subject, "\n".join(lines)


def grant_ended_mail(*, grant: Any) -> tuple[str, str]:
    """Subject and body of the mail for a grant that ended without the customer's action."""
    partner = _partner(grant)
    subject = _("%(partner)s can no longer read your tariff") % {"partner": partner}
    if grant.end_reason == EXPIRED:
        why = _("The permission you gave has expired.")
    elif grant.end_reason == SUPPLY_ENDED:
        why = _("Your energy supply at %(address)s has ended.") % {
            "address": grant.premise.one_line_address
        }
    else:
        why = _("The permission was revoked.")
    lines = [
        why,
        _("%(partner)s can no longer read your tariff or any other data about that supply.")
        % {"partner": partner},
        "",
        _("Your record of permissions:"),
        _record_url(),
    ]
    return subject, "\n".join(lines)


def _send(*, build: Any, grant_id: int) -> None:
    from provider_auth.oauth.models import Grant

    grant = (
        Grant.objects.select_related("customer", "client", "premise").filter(pk=grant_id).first()
    )
    if grant is None or not grant.customer.email:
        return
    try:
        subject, body = build(grant=grant)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [grant.customer.email])
    except Exception:  # a mail failure must never undo or hide the change already committed
        logger.exception("consent mail for grant %s not sent", grant_id)


def grant_started_mail_on_commit(*, grant: Any) -> None:
    grant_id = grant.pk
    transaction.on_commit(lambda: _send(build=grant_started_mail, grant_id=grant_id))


def grant_ended_mail_on_commit(*, grant: Any) -> None:
    grant_id = grant.pk
    transaction.on_commit(lambda: _send(build=grant_ended_mail, grant_id=grant_id))
