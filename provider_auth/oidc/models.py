"""An identity at the provider's identity provider, linked to one customer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class OidcIdentity(models.Model):
    """(issuer, sub) → customer. Made at the first federated login, used by every later one.

    `sub` is unique only within its issuer (OpenID Connect Core 5.7): the pair is the key, so a
    second identity provider can never log in as the first one's customers.
    """

    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OpenID Connect identity"
        verbose_name_plural = "OpenID Connect identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class OidcBrowserSession(models.Model):
    """A browser session of ours opened by a federated login: what back-channel logout ends.

    The session key is stored as Django's own session table stores it (the primary key there),
    so keeping it here exposes nothing new; `sid` is the identity provider's session id.
    """

    identity = models.ForeignKey(OidcIdentity, on_delete=models.CASCADE, related_name="sessions")
    sid = models.CharField(max_length=255, blank=True, db_index=True)
    session_key = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "OpenID Connect browser session"

    def __str__(self) -> str:
        return f"{self.identity} {self.sid}"
