from django.apps import AppConfig


class OidcConfig(AppConfig):
    """Log in through the provider's identity provider (OpenID Connect relying party)."""

    name = "provider_auth.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect login"

    def ready(self) -> None:
        from provider_auth.oidc import checks  # noqa: F401 (registers the system checks)
