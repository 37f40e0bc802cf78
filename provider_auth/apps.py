from django.apps import AppConfig


class ProviderAuthConfig(AppConfig):
    """The FlatPeak- and OAuth-facing side: templates, system checks, management commands."""

    name = "provider_auth"
    verbose_name = "FlatPeak provider endpoint"

    def ready(self) -> None:
        from provider_auth import checks  # noqa: F401  (registers the system checks)
