from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Login protection, one-time codes, session timeouts, rate limits, log redaction."""

    name = "provider_auth.security"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from provider_auth.security import session  # noqa: F401  (connects login signals)
