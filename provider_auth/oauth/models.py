"""OAuth clients, grants, and the hashed credentials tied to each grant.

A *grant* is one customer's permission for one client to read one premise's tariff. Tokens and
codes hang off it; revoking the grant kills them all. No plaintext secret is stored anywhere:
only SHA-256 digests (see `provider_auth.oauth.tokens`).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from provider_auth.consent.lifecycle import grant_end_reason
from provider_auth.oauth.scopes import TARIFF_READ


class OAuthClient(models.Model):
    """A registered client (FlatPeak, or another partner)."""

    GRANT_AUTHORIZATION_CODE = "authorization_code"
    GRANT_REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant type name, not a secret)

    client_id = models.CharField(_("client id"), max_length=100, unique=True)
    client_secret_hash = models.CharField(_("client secret (SHA-256)"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    redirect_uris = models.JSONField(_("redirect URIs (exact match)"), default=list, blank=True)
    grant_types = models.JSONField(_("grant types"), default=list)
    scopes = models.JSONField(_("allowed scopes"), default=list)
    access_token_seconds = models.PositiveIntegerField(null=True, blank=True)
    refresh_idle_days = models.PositiveIntegerField(null=True, blank=True)
    refresh_absolute_days = models.PositiveIntegerField(null=True, blank=True)
    # Consent lifecycle: how long a customer's permission lasts before it expires by itself
    # (empty: until revoked or the supply ends), and what the partner says it is for.
    consent_days = models.PositiveIntegerField(
        _("consent lasts (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: until the customer revokes it or the supply at the premise ends."),
    )
    purpose = models.CharField(
        _("purpose"), max_length=64, default="tariff_sync", help_text=_("e.g. tariff_sync")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("OAuth client")
        verbose_name_plural = _("OAuth clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # --- Authlib ClientMixin (authlib.oauth2.rfc6749.models) ------------------------------
    TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only when unambiguous: with several URIs the request must name one.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(sorted(s for s in set(scope.split()) if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (RFC 9700 §2.1): no prefix, wildcard or normalisation.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        from provider_auth.oauth.tokens import secret_matches

        return bool(self.client_secret_hash) and secret_matches(
            client_secret, self.client_secret_hash
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Every client is confidential: no "none" (public clients) anywhere.
        return method in self.TOKEN_ENDPOINT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.check_grant_type(self.GRANT_AUTHORIZATION_CODE)

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class GrantStatus(models.TextChoices):
    # Pending: issued by the connect flow, not yet acknowledged by FlatPeak (tokens unusable).
    PENDING = "PENDING", _("Pending")
    ACTIVE = "ACTIVE", _("Active")
    REVOKED = "REVOKED", _("Revoked")


class GrantEndReason(models.TextChoices):
    """Why a grant ended; the value is also the `code` the tariff API answers with."""

    REVOKED = "grant_revoked", _("Revoked")
    EXPIRED = "grant_expired", _("Expired")
    SUPPLY_ENDED = "supply_ended", _("Supply at the address ended")


class Grant(models.Model):
    """A customer's permission for a client to read one premise's tariff."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oauth_grants"
    )
    premise = models.ForeignKey(
        "accounts.Premise", on_delete=models.CASCADE, related_name="oauth_grants"
    )
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="grants")
    scope = models.CharField(max_length=200, default=TARIFF_READ)
    directions = models.JSONField(default=list)  # ["IMPORT"], ["EXPORT"] or both
    status = models.CharField(max_length=8, choices=GrantStatus.choices, default=GrantStatus.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    pending_expires_at = models.DateTimeField(null=True, blank=True)
    # Refresh tokens never outlive this, however often they are rotated.
    absolute_expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    # Display name of the party the customer consented to (device maker from the connect
    # session context, else the client's name), shown on the connected-apps page.
    display_name = models.CharField(max_length=200, blank=True)
    # What the partner said the data is for (`provider_auth.consent.scopes.PURPOSES`).
    purpose = models.CharField(max_length=64, default="tariff_sync")
    # The consent's own expiry (the client's `consent_days`), stated on the consent page. The
    # grant also ends when the supply at the premise ends, or on revocation: whichever first.
    consent_expires_at = models.DateTimeField(null=True, blank=True)
    # Set with status REVOKED: the ended state is one state whatever ended it.
    end_reason = models.CharField(max_length=16, choices=GrantEndReason.choices, blank=True)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"grant {self.pk} {self.client.client_id} → {self.premise.reference} ({self.status})"


class _GrantTokenMixin:
    """Authlib's TokenMixin methods that access and refresh tokens answer alike.

    Both belong to a grant's client, carry a scope and expire at `expires_at`; only what
    makes each one revoked differs, so `is_revoked` stays on each model.
    """

    grant: Grant
    scope: str
    created_at: datetime.datetime
    expires_at: datetime.datetime

    def check_client(self, client: OAuthClient) -> bool:
        return self.grant.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - self.created_at).total_seconds()))

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class AccessToken(_GrantTokenMixin, models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:  # never the token value: we do not have it
        return f"access token {self.pk} of grant {self.grant_id}"

    # --- Authlib TokenMixin (the rest in _GrantTokenMixin) ---------------------------------
    def is_revoked(self) -> bool:
        # A deactivated client loses access at once, like a revoked grant.
        return (
            self.revoked_at is not None
            or self.grant.status != GrantStatus.ACTIVE
            or not self.grant.client.is_active
            or grant_end_reason(self.grant) is not None
        )


class RefreshToken(_GrantTokenMixin, models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    access_token = models.OneToOneField(
        AccessToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="refresh_token"
    )
    scope = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()  # idle expiry, capped by the grant's absolute expiry
    used_at = models.DateTimeField(null=True, blank=True)  # rotated: presenting it again = reuse
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of grant {self.grant_id}"

    # --- Authlib TokenMixin (the rest in _GrantTokenMixin) ---------------------------------
    def is_revoked(self) -> bool:
        # A rotated (used) refresh token is dead too, whatever the grace period allows.
        return (
            self.revoked_at is not None
            or self.used_at is not None
            or self.grant.status != GrantStatus.ACTIVE
            or not self.grant.client.is_active
            or grant_end_reason(self.grant) is not None
        )


class AuthorizationCode(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="authorization_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField()
    scope = models.CharField(max_length=200)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10, default="S256")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")

    def __str__(self) -> str:
        return f"authorization code {self.pk} of grant {self.grant_id}"

    # --- Authlib AuthorizationCodeMixin ---------------------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
