"""The data types a grant can cover (one OAuth scope each), in the customer's words, and the
purposes partners state."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from provider_auth.oauth.scopes import ADDRESS_READ, CONTRACT_READ, SCOPES_SUPPORTED, TARIFF_READ

SCOPE_LABELS = {
    TARIFF_READ: _("Your tariff and its rates"),
    CONTRACT_READ: _("The start and end dates of your contract"),
    ADDRESS_READ: _("Your supply address"),
}

PURPOSE_TARIFF_SYNC = "tariff_sync"
PURPOSES = {
    PURPOSE_TARIFF_SYNC: _(
        "Tariff synchronisation: keeping your devices' energy prices up to date"
    ),
}


def scope_set(scope: str) -> frozenset[str]:
    return frozenset(scope.split())


def scope_labels(scope: str) -> list[str]:
    """The data types of `scope` in words, in display order (unknown names left out)."""
    granted = scope_set(scope)
    return [str(SCOPE_LABELS[s]) for s in SCOPES_SUPPORTED if s in granted]


def purpose_label(purpose: str) -> str:
    label = PURPOSES.get(purpose)
    return str(label) if label is not None else purpose
