"""Staff see and remove identity links (a wrong link is fixed by deleting it: the next login
links again through the configured claim). Links are never edited by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from provider_auth.oidc.models import OidcIdentity


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    list_display = ("issuer", "subject", "customer", "created_at", "last_login_at")
    search_fields = ("subject", "customer__email", "customer__account_number")
    list_filter = ("issuer",)
    readonly_fields = ("issuer", "subject", "customer", "created_at", "last_login_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
