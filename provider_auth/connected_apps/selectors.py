"""Reads for the connected-apps page."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from provider_auth.consent.scopes import scope_labels
from provider_auth.oauth.models import Grant, GrantStatus


def grant_list_active_for_customer(*, customer: User) -> QuerySet[Grant]:
    """The customer's working grants, newest first (pending ones do not work yet: not shown)."""
    return (
        Grant.objects.filter(customer=customer, status=GrantStatus.ACTIVE)
        .select_related("premise", "client")
        .order_by("-activated_at", "-created_at", "-pk")
    )


def grant_get_active_for_customer(*, customer: User, grant_id: int) -> Grant | None:
    return grant_list_active_for_customer(customer=customer).filter(pk=grant_id).first()


def grant_shared_description(*, grant: Grant) -> list[str]:
    """What the customer shares through a grant, in words."""
    labels = {
        "IMPORT": _("Your electricity tariff (the prices you pay)"),
        "EXPORT": _("Your export tariff (what you are paid for electricity you send to the grid)"),
    }
    granted = set(grant.scope.split())
    items = []
    if "tariff:read" in granted:
        items = [labels[d] for d in grant.directions if d in labels] or [labels["IMPORT"]]
    # The other data types, each as the consent page named it.
    items += [
        label for label in scope_labels(grant.scope) if label not in scope_labels("tariff:read")
    ]
    return items
