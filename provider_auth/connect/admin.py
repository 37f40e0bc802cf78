"""Read-only admin of connect sessions: the audit trail of decisions, never tokens or bodies."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from provider_auth.connect.models import ConnectSession


@admin.register(ConnectSession)
class ConnectSessionAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "token_hint",
        "flatpeak_account_name",
        "customer",
        "premise",
        "state",
        "outcome",
        "decided_at",
    )
    list_filter = ("kind", "state", "outcome", "direction")
    search_fields = ("token_hint", "flatpeak_account_name", "customer__email", "premise__reference")
    date_hierarchy = "created_at"
    # The encrypted token and body, the binding hash and the raw context are not shown.
    fields = (
        "kind",
        "public_id",
        "token_hint",
        "state",
        "direction",
        "flatpeak_account_id",
        "flatpeak_account_name",
        "customer",
        "premise",
        "login_failed",
        "outcome",
        "reason",
        "decided_at",
        "decision_ip",
        "decision_user_agent",
        "grant",
        "submission_attempts",
        "last_submission_error",
        "redirect_target",
        "created_at",
        "last_seen_at",
        "completed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
