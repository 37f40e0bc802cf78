"""An append-only record of security events (consent, tokens, logins, revocations)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

_ERASABLE = {"customer", "customer_id", "actor", "actor_id"}


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        # The one permitted change: forgetting a deleted person (on_delete=SET_NULL).
        if kwargs and set(kwargs) <= _ERASABLE and all(v is None for v in kwargs.values()):
            return super().update(**kwargs)
        raise ValueError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One security event. Rows are never updated; they are deleted only by retention cleanup."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=64, db_index=True)  # e.g. "consent.given"
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # never secrets: see services

    # Bulk updates refused here; on PostgreSQL a trigger refuses UPDATE from any client too
    # (migration 0002). Rows leave only through retention (audit_purge_expired).
    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit event"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)
