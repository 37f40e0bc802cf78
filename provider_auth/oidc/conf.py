"""The relying party's configuration, read from settings once per use (tests override them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# Asymmetric signatures only: never "none", never an HMAC whose key an attacker could build from
# the identity provider's public key.
ALLOWED_SIGNING_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    private_key_file: str
    private_key_id: str
    scopes: str
    customer_claim: str
    display_name: str
    max_age: int | None
    acr_values: str
    support_url: str
    timeout: tuple[float, float]
    metadata_cache_seconds: int
    jwks_refresh_interval_seconds: int
    clock_skew_seconds: int

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def oidc_settings() -> OidcSettings:
    return OidcSettings(
        issuer=settings.OIDC_ISSUER,
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        private_key_file=settings.OIDC_PRIVATE_KEY_FILE,
        private_key_id=settings.OIDC_PRIVATE_KEY_ID,
        scopes=settings.OIDC_SCOPES,
        customer_claim=settings.OIDC_CUSTOMER_CLAIM,
        display_name=settings.OIDC_DISPLAY_NAME,
        max_age=settings.OIDC_MAX_AGE,
        acr_values=settings.OIDC_ACR_VALUES,
        support_url=settings.OIDC_SUPPORT_URL,
        timeout=tuple(settings.OIDC_HTTP_TIMEOUT),  # type: ignore[arg-type]
        metadata_cache_seconds=settings.OIDC_METADATA_CACHE_SECONDS,
        jwks_refresh_interval_seconds=settings.OIDC_JWKS_REFRESH_INTERVAL_SECONDS,
        clock_skew_seconds=settings.OIDC_CLOCK_SKEW_SECONDS,
    )


def oidc_enabled() -> bool:
    """Federated login is offered only when an issuer and a client are configured."""
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)
