"""The sandbox's own storage: what a fake FlatPeak remembers about each connect session.

Everything here is sandbox-only test data. The access and refresh tokens FlatPeak received are
kept in plaintext on purpose: this *is* FlatPeak's storage, which needs them to poll. Pages mask
them; the app refuses to run outside DEBUG unless SANDBOX_ALLOW_IN_PRODUCTION is set.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Fault(models.TextChoices):
    NONE = "", _("No fault")
    TIMEOUT = "timeout", _("Timeout (answer after the client's read timeout)")
    ERROR_500 = "error_500", _("500 Internal Server Error")
    GONE_410 = "gone_410", _("410 Gone (token expired)")
    SLOW = "slow", _("Slow answer (within the read timeout)")


class SandboxSession(models.Model):
    """One connect token issued by the sandbox, from the device maker's app to its outcome."""

    connect_token = models.CharField(max_length=28, unique=True)
    persona = models.CharField(max_length=40)
    direction = models.CharField(max_length=6, default="IMPORT")
    # Scheme and host the device maker's app was opened on: FlatPeak's connect-web page lives
    # there, so the browser comes back to the site it started from.
    app_origin = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Fault injection: the next `fault_repeats` calls of each kind answer with the fault.
    fault_context = models.CharField(max_length=10, choices=Fault.choices, blank=True)
    fault_submission = models.CharField(max_length=10, choices=Fault.choices, blank=True)
    fault_context_left = models.PositiveSmallIntegerField(default=0)
    fault_submission_left = models.PositiveSmallIntegerField(default=0)
    context_fetches = models.PositiveIntegerField(default=0)
    # The accepted submission (one per session: FlatPeak's connect tokens are single-use).
    status = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # FlatPeak's copy of the credentials, updated when the poller refreshes them.
    access_token = models.TextField(blank=True)
    refresh_token = models.TextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    # What the poller saw: {"at", "ok", "error", "tariff", "tariff_flatpeak", "rates", ...}.
    poll_result = models.JSONField(null=True, blank=True)
    token_checks = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox session")
        verbose_name_plural = _("sandbox sessions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sandbox session …{self.connect_token[-4:]} ({self.status or 'open'})"


class SandboxRequest(models.Model):
    """Every call our server made to the sandbox API, so idempotency can be proven."""

    session = models.ForeignKey(
        SandboxSession, on_delete=models.CASCADE, related_name="requests", null=True, blank=True
    )
    connect_token = models.CharField(max_length=100)
    method = models.CharField(max_length=8)
    kind = models.CharField(max_length=12)  # "context" or "submission"
    at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=255, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField()
    # "accepted" (new payload), "replayed" (same key and body), "rejected", "fault", ...
    outcome = models.CharField(max_length=24)
    error_code = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("sandbox API request")
        verbose_name_plural = _("sandbox API requests")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.kind} → {self.response_status} ({self.outcome})"
