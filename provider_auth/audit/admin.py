"""The audit log in the admin: readable and searchable by staff, never editable by anyone."""

from __future__ import annotations

from django.contrib import admin

from provider_auth.admin_readonly import ReadOnlyModelAdmin
from provider_auth.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "event", "customer", "actor", "ip_address"]
    list_filter = ["event", "created_at"]
    search_fields = ["event", "customer__email", "actor__email", "ip_address"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "actor"]
    readonly_fields = [
        "created_at",
        "event",
        "customer",
        "actor",
        "ip_address",
        "user_agent",
        "detail",
    ]
    fields = tuple(readonly_fields)
    actions = None
