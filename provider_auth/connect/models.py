"""A persistent, single-use flow session: one row per FlatPeak connect token (or per OAuth
authorization request), bound to the browser that opened it, with an explicit state machine.

    OPEN ──decide──▶ DECIDED ──claim──▶ SUBMITTING ──FlatPeak 2xx──▶ COMPLETED
      │                 ▲                  │  └──FlatPeak 4xx──▶ FAILED (pending grant revoked)
      └──idle──▶ EXPIRED └──transient───────┘ ("Try again" resends the same body and key)

The claim is a compare-and-set (`UPDATE … WHERE state = 'DECIDED'`) committed before FlatPeak
is called: no transaction or row lock is held across the call, and of two concurrent requests
only one sends. A claim left behind by a crashed worker is taken over once it is older than
the client's whole-call deadline (`submission_started_at`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FlowKind(models.TextChoices):
    FLATPEAK = "FLATPEAK", _("FlatPeak connect")
    OAUTH = "OAUTH", _("OAuth authorization")


class SessionState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    DECIDED = "DECIDED", _("Decided, not yet acknowledged")
    SUBMITTING = "SUBMITTING", _("Decided, being sent")
    COMPLETED = "COMPLETED", _("Completed")
    FAILED = "FAILED", _("Failed")
    EXPIRED = "EXPIRED", _("Expired")


class Outcome(models.TextChoices):
    # The values are FlatPeak's submission statuses (docs/flatpeak-contract.md §4).
    AUTHORISED = "AUTHORISED", _("Allowed")
    DECLINED = "DECLINED", _("Denied")
    CANCELLED = "CANCELLED", _("Cancelled")
    LOGIN_FAILED = "LOGIN_FAILED", _("Login failed")
    NO_TARIFF = "NO_TARIFF", _("No tariff")


class ConnectSession(models.Model):
    """One customer journey from FlatPeak's (or an OAuth client's) link back to it."""

    kind = models.CharField(max_length=8, choices=FlowKind.choices, default=FlowKind.FLATPEAK)
    # Opaque id used in our URLs instead of the connect token.
    public_id = models.CharField(max_length=43, unique=True)
    # The connect token: looked up by hash; the value itself only encrypted (needed to submit),
    # and erased once the flow is over.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hint = models.CharField(max_length=16, blank=True)  # cot_…a97
    token_encrypted = models.TextField(blank=True)
    # SHA-256 of a random secret held in the Django session of the browser that opened it.
    browser_binding_hash = models.CharField(max_length=64)

    state = models.CharField(max_length=10, choices=SessionState.choices, default=SessionState.OPEN)
    context = models.JSONField(default=dict)  # validated SessionContext (or OAuth request) snapshot
    direction = models.CharField(max_length=6, default="IMPORT")
    flatpeak_account_id = models.CharField(max_length=200, blank=True)
    flatpeak_account_name = models.CharField(max_length=200, blank=True)

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connect_sessions",
    )
    premise = models.ForeignKey(
        "accounts.Premise", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    login_failed = models.BooleanField(default=False)  # a failed attempt, no success since

    # The decision, for audit: when, who, which premise, outcome, from where.
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_ip = models.GenericIPAddressField(null=True, blank=True)
    decision_user_agent = models.CharField(max_length=300, blank=True)
    grant = models.ForeignKey(
        "oauth.Grant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The submission: identical on every retry; the body only encrypted and only until acked.
    idempotency_key = models.CharField(max_length=64, blank=True)
    payload_encrypted = models.TextField(blank=True)
    submission_attempts = models.PositiveIntegerField(default=0)
    last_submission_error = models.CharField(max_length=100, blank=True)
    submission_started_at = models.DateTimeField(null=True, blank=True)
    # Where the browser went at the end, for the record: without the spent connect token
    # (`fp_cot`). The full address, needed only by the browser bound to the flow, is encrypted.
    redirect_target = models.TextField(blank=True)
    redirect_target_encrypted = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("connect session")
        verbose_name_plural = _("connect sessions")
        indexes = [models.Index(fields=["state", "last_seen_at"])]

    def __str__(self) -> str:
        return f"connect session {self.token_hint or self.public_id[:8]} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (SessionState.COMPLETED, SessionState.FAILED)


class ConnectSessionLogo(models.Model):
    """The device maker's logo, fetched server-side once and served from our origin.

    Its own table so the flow row every page loads and locks stays small; it goes with the
    session (cascade) and is dropped once the session is over.
    """

    session = models.OneToOneField(
        ConnectSession, on_delete=models.CASCADE, primary_key=True, related_name="logo"
    )
    content_type = models.CharField(max_length=16)  # one of flatpeak.logo.CONTENT_TYPES
    content = models.BinaryField()
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("connect session logo")
        verbose_name_plural = _("connect session logos")

    def __str__(self) -> str:
        return f"logo of {self.session_id} ({self.content_type})"
