"""Read-only admin of connect sessions: the audit trail of decisions, never tokens or bodies."""

from __future__ import annotations

from django.contrib import admin

from provider_auth.admin_readonly import ReadOnlyModelAdmin
from provider_auth.connect.models import ConnectSession


@admin.register(ConnectSession)
class ConnectSessionAdmin(ReadOnlyModelAdmin):
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
