"""Reads for the OAuth server: metadata, grants of a customer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import User
from provider_auth.oauth.models import Grant, GrantStatus
from provider_auth.oauth.scopes import SCOPES_SUPPORTED

# Where the authorization page lives (connect/views.py renders it; this module only names it).
AUTHORIZATION_PATH = "/oauth/authorize"


def server_metadata() -> dict[str, Any]:
    """RFC 8414 authorization server metadata; every URL absolute, from PUBLIC_BASE_URL."""
    base = settings.PUBLIC_BASE_URL
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": base,
        "authorization_endpoint": base + AUTHORIZATION_PATH,
        "token_endpoint": base + "/oauth/token",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": base + "/api/openapi.json",
    }


def grant_list_active_for_customer(*, customer: User) -> QuerySet[Grant]:
    """The customer's live grants (what the connected-apps page lists)."""
    return (
        Grant.objects.filter(customer=customer, status=GrantStatus.ACTIVE)
        .select_related("client", "premise")
        .order_by("-created_at")
    )
