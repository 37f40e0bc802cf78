"""Recording security events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from provider_auth.audit.models import AuditEvent
from provider_auth.security.network import client_ip


def request_client_ip(request: HttpRequest | None) -> str | None:
    # Behind our proxies REMOTE_ADDR is the proxy; client_ip honours TRUSTED_PROXY_COUNT.
    if request is None:
        return None
    return client_ip(request)


def audit_record(
    *,
    event: str,
    customer: Any = None,
    actor: Any = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Append one event. `detail` must hold identifiers only, never token or password values.

    The client's address and user agent come from `request`, or from `ip` and `user_agent` for
    a service that was handed them as plain values.
    """
    if user_agent is None:
        user_agent = request.META.get("HTTP_USER_AGENT", "") if request else ""
    return AuditEvent.objects.create(
        event=event,
        customer=customer if getattr(customer, "pk", None) else None,
        actor=actor if getattr(actor, "pk", None) else None,
        ip_address=ip if ip is not None else request_client_ip(request),
        user_agent=user_agent[:300],
        detail=detail or {},
    )


def audit_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
