from django.apps import AppConfig


class AuditConfig(AppConfig):
    """An append-only log of security events."""

    name = "provider_auth.audit"
    label = "audit"
    verbose_name = "Audit log"
