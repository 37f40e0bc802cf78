from django.apps import AppConfig


class OAuthConfig(AppConfig):
    """The OAuth 2.0 authorization server: clients, grants, tokens (hashed), codes."""

    name = "provider_auth.oauth"
    label = "oauth"
    verbose_name = "OAuth"
