"""Writes of the connect flow: open, bind, log in, choose, decide, submit, expire.

The decision is committed first (with the pending grant, in one transaction); the submission to
FlatPeak runs afterwards in its own transaction holding the session's row lock, so a second
"Allow" (double tap) waits, finds the decision already made and sends nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Premise, User
from provider_auth.audit.services import audit_record
from provider_auth.connect import crypto
from provider_auth.connect.models import (
    ConnectSession,
    ConnectSessionLogo,
    FlowKind,
    Outcome,
    SessionState,
)
from provider_auth.connect.selectors import (
    connect_session_fallback_redirect,
    connect_session_get_by_token,
    connect_session_is_idle,
    connect_session_premises,
    connect_session_token,
    premise_contract_term,
    session_binding_key,
)
from provider_auth.flatpeak.client import (
    FlatPeakClient,
    SessionContext,
    connect_token_redact,
    redirect_host_allowed,
)
from provider_auth.flatpeak.errors import (
    FlatPeakMisconfigured,
    FlatPeakNotFound,
    FlatPeakRejected,
    FlatPeakUnavailable,
)
from provider_auth.flatpeak.logo import Logo
from provider_auth.oauth.authorize import (
    AuthorizationRequest,
    authorization_code_issue,
    authorization_response_uri,
)
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient
from provider_auth.oauth.scopes import TARIFF_READ
from provider_auth.oauth.services import grant_activate, grant_issue, grant_revoke
from provider_auth.oauth.tokens import secret_hash
from provider_auth.security.network import client_ip

logger = logging.getLogger(__name__)

SCOPE = TARIFF_READ
AUDIT_EVENTS = {
    Outcome.AUTHORISED: "consent.given",
    Outcome.DECLINED: "consent.denied",
    Outcome.CANCELLED: "consent.cancelled",
    Outcome.LOGIN_FAILED: "consent.login_failed",
    Outcome.NO_TARIFF: "consent.no_tariff",
}


class ConnectDecisionInvalid(Exception):  # noqa: N818 (reads as a sentence at the call site)
    """The decision cannot be recorded (e.g. the premise is not the customer's any more)."""


def _metric_flow_outcome(status: str) -> None:
    try:
        from provider_auth.ops.metrics import flow_outcome_inc
    except ImportError:
        return
    flow_outcome_inc(status=status)


def connect_session_open(
    *,
    request: HttpRequest,
    connect_token: str,
    context: SessionContext,
    logo: Logo | None = None,
) -> ConnectSession:
    """Create the connect session for a token on its first arrival, bound to this browser.

    `logo` is the device maker's logo, already fetched and checked (`flatpeak.logo`); it is
    kept with the session and served from our origin. If the same token was opened
    concurrently, the existing row wins and is returned (the caller then checks the binding,
    as for any later arrival).
    """
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            session = ConnectSession.objects.create(
                kind=FlowKind.FLATPEAK,
                public_id=secrets.token_urlsafe(24),
                token_hash=secret_hash(connect_token),
                token_hint=connect_token_redact(connect_token),
                token_encrypted=crypto.payload_encrypt({"connect_token": connect_token}),
                browser_binding_hash=secret_hash(secret),
                context=context.to_dict(),
                direction=context.direction,
                flatpeak_account_id=context.account_id,
                flatpeak_account_name=context.display_name,
            )
            if logo is not None:
                ConnectSessionLogo.objects.create(
                    session=session, content_type=logo.content_type, content=logo.content
                )
    except IntegrityError:
        existing = connect_session_get_by_token(connect_token=connect_token)
        if existing is None:
            raise
        return existing
    request.session[session_binding_key(session.public_id)] = secret
    audit_record(
        event="connect.opened",
        request=request,
        detail={
            "connect_token": session.token_hint,
            "flatpeak_account_id": context.account_id,
            "flatpeak_account_name": context.display_name,
            "direction": context.direction,
            "redirect_uri": context.redirect_uri,
        },
    )
    return session


def connect_session_open_oauth(
    *, request: HttpRequest, authorization: dict[str, Any]
) -> ConnectSession:
    """A flow session for `GET /oauth/authorize`: same pages, the client instead of FlatPeak."""
    secret = secrets.token_urlsafe(32)
    session = ConnectSession.objects.create(
        kind=FlowKind.OAUTH,
        public_id=secrets.token_urlsafe(24),
        browser_binding_hash=secret_hash(secret),
        context=authorization,
        direction=authorization.get("direction", "IMPORT"),
        flatpeak_account_id=authorization["client_id"],
        flatpeak_account_name=authorization["display_name"],
    )
    request.session[session_binding_key(session.public_id)] = secret
    return session


def connect_session_touch(
    *, session: ConnectSession, now: dt.datetime | None = None
) -> ConnectSession:
    """Record activity; an open session idle past CONNECT_SESSION_IDLE_MINUTES expires."""
    now = now or timezone.now()
    if session.state != SessionState.OPEN:
        return session
    if connect_session_is_idle(session=session, now=now):
        updated = ConnectSession.objects.filter(pk=session.pk, state=SessionState.OPEN).update(
            state=SessionState.EXPIRED
        )
        if updated:
            _metric_flow_outcome("expired")
        session.refresh_from_db()
        return session
    session.last_seen_at = now
    session.save(update_fields=["last_seen_at"])
    return session


def connect_session_login(*, session: ConnectSession, customer: User) -> ConnectSession:
    """The customer proved who they are; a different customer starts the choice afresh."""
    if session.customer_id != customer.pk:
        session.premise = None
    session.customer = customer
    session.login_failed = False
    session.save(update_fields=["customer", "premise", "login_failed"])
    return session


def connect_session_login_failed(*, session: ConnectSession) -> None:
    """Remember a failed attempt: Cancel before a successful login then means LOGIN_FAILED.

    The attempt itself is audited by `customer_authenticate` (login.failed).
    """
    session.login_failed = True
    session.save(update_fields=["login_failed"])


def connect_session_premise_choose(
    *, session: ConnectSession, customer: User, premise_reference: str
) -> Premise | None:
    """Select a supply point among the customer's eligible ones; None if not one of them."""
    premise = (
        connect_session_premises(session=session, customer=customer)
        .filter(reference=premise_reference)
        .first()
    )
    if premise is not None:
        session.premise = premise
        session.save(update_fields=["premise"])
    return premise


def connect_session_premise_forget(*, session: ConnectSession) -> None:
    session.premise = None
    session.save(update_fields=["premise"])


def _auth_data(*, client: OAuthClient, issued: Any) -> dict[str, Any]:
    base = settings.PUBLIC_BASE_URL
    return {
        "token_type": "Bearer",
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
        "client_id": client.client_id,
        "token_endpoint": f"{base}/oauth/token",
        "tariff_endpoint": f"{base}/api/v1/tariff",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "min_poll_interval_seconds": settings.TARIFF_MIN_POLL_INTERVAL_SECONDS,
    }


@transaction.atomic
def connect_session_decide(
    *,
    session: ConnectSession,
    outcome: str,
    reason: str,
    request: HttpRequest,
    client: OAuthClient | None = None,
) -> ConnectSession:
    """Record the customer's decision once (row lock); for AUTHORISED issue the pending grant.

    A second call for a session already decided changes nothing and returns it as it is: a
    double "Allow" makes one grant and one submission.
    """
    locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
    if locked.state != SessionState.OPEN:
        return locked
    customer = locked.customer
    premise = locked.premise
    payload: dict[str, Any]
    if outcome == Outcome.AUTHORISED:
        if customer is None or premise is None:
            raise ConnectDecisionInvalid("customer, premise and client are required to allow")
        eligible = connect_session_premises(session=locked, customer=customer)
        if not eligible.filter(pk=premise.pk).exists():
            raise ConnectDecisionInvalid("the premise has no active contract any more")
        if locked.kind == FlowKind.FLATPEAK:
            if client is None:
                raise ConnectDecisionInvalid("the FlatPeak OAuth client is required to allow")
            grant, issued = grant_issue(
                customer=customer,
                premise=premise,
                client=client,
                directions=[locked.direction],
                scope=SCOPE,
                pending=True,
                display_name=locked.flatpeak_account_name,
            )
            locked.grant = grant
            payload = {
                "status": Outcome.AUTHORISED.value,
                "reference_id": premise.reference,
                "auth_data": _auth_data(client=client, issued=issued),
                "postal_address": premise.postal_address(),
                "contract_term": premise_contract_term(premise=premise, direction=locked.direction),
            }
        else:
            payload = {"status": Outcome.AUTHORISED.value}
    else:
        payload = {"status": str(outcome), "reason": reason}
    now = timezone.now()
    locked.outcome = outcome
    locked.reason = reason[:64]
    locked.decided_at = now
    locked.last_seen_at = now
    # Through our trusted proxies (TRUSTED_PROXY_COUNT), like the login limits.
    locked.decision_ip = client_ip(request)
    locked.decision_user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    locked.state = SessionState.DECIDED
    if locked.kind == FlowKind.FLATPEAK:
        locked.idempotency_key = secrets.token_hex(16)
        locked.payload_encrypted = crypto.payload_encrypt(payload)
    locked.save()
    audit_record(
        event=AUDIT_EVENTS.get(Outcome(outcome), "consent.other"),
        customer=customer,
        request=request,
        detail={
            "flow": locked.kind.lower(),
            "connect_session": locked.public_id,
            "connect_token": locked.token_hint,
            "flatpeak_account_id": locked.flatpeak_account_id,
            "flatpeak_account_name": locked.flatpeak_account_name,
            "premise": premise.reference if premise else None,
            "outcome": outcome,
            "reason": reason,
            "grant_id": locked.grant_id,
        },
    )
    return locked


@dataclass(frozen=True)
class SubmissionResult:
    session: ConnectSession
    # "completed", "unavailable", "rejected", "expired", "redirect_refused"
    status: str


def _finish(locked: ConnectSession, *, state: str, error: str = "", target: str = "") -> None:
    locked.state = state
    locked.last_submission_error = error
    locked.redirect_target = target
    locked.payload_encrypted = ""  # plaintext tokens are erased once FlatPeak has them (or not)
    locked.token_encrypted = ""
    locked.completed_at = timezone.now()
    locked.save()


@transaction.atomic
def connect_session_submit(
    *, session: ConnectSession, client: FlatPeakClient | None = None
) -> SubmissionResult:
    """Send the recorded decision to FlatPeak (identical body and key on every try).

    Holds the session's row lock during the call so that only one request submits; a
    concurrent request waits and then sees the outcome.
    """
    locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
    if locked.state == SessionState.COMPLETED:
        status = "completed" if locked.redirect_target else "redirect_refused"
        return SubmissionResult(session=locked, status=status)
    if locked.state != SessionState.DECIDED:
        return SubmissionResult(session=locked, status="rejected")
    try:
        payload = crypto.payload_decrypt(locked.payload_encrypted)
    except ValueError:
        logger.error("Cannot decrypt the stored submission of %s (key changed?)", locked.token_hint)
        _fail(locked, error="undecryptable")
        return SubmissionResult(session=locked, status="rejected")
    token = connect_session_token(session=locked)
    # The fallback needs the token, which _finish erases: compute it first.
    fallback = connect_session_fallback_redirect(session=locked)
    locked.submission_attempts += 1
    try:
        result = (client or FlatPeakClient()).session_submit(
            connect_token=token, payload=payload, idempotency_key=locked.idempotency_key
        )
    except (FlatPeakUnavailable, FlatPeakMisconfigured) as error:
        # Transient (or an operator fix away): the decision stays; "Try again" resends it.
        locked.last_submission_error = type(error).__name__
        locked.save(update_fields=["submission_attempts", "last_submission_error"])
        return SubmissionResult(session=locked, status="unavailable")
    except FlatPeakNotFound:
        _fail(locked, error="token_expired")
        return SubmissionResult(session=locked, status="expired")
    except FlatPeakRejected as error:
        _fail(locked, error=f"rejected_{error.status or 'invalid'}")
        return SubmissionResult(session=locked, status="rejected")

    if locked.grant is not None:
        grant_activate(grant=locked.grant)
    target = result.redirect_uri or fallback
    if result.redirect_uri and not redirect_host_allowed(result.redirect_uri):
        target = ""
    if not target:
        logger.error(
            "FlatPeak acknowledged %s but the redirect target is missing or its host is not in "
            "FLATPEAK_REDIRECT_HOSTS; the browser is not redirected",
            locked.token_hint,
        )
        _finish(locked, state=SessionState.COMPLETED, error="redirect_refused")
        _metric_flow_outcome(str(locked.outcome).lower())
        return SubmissionResult(session=locked, status="redirect_refused")
    _finish(locked, state=SessionState.COMPLETED, target=target)
    _metric_flow_outcome(str(locked.outcome).lower())
    return SubmissionResult(session=locked, status="completed")


@transaction.atomic
def connect_session_oauth_finish(*, session: ConnectSession) -> str:
    """Complete an OAuth-kind session: the redirect to the client's registered URI.

    Allow issues one code (row lock: a double tap yields one); anything else answers
    `access_denied`. The URL carries the code, so it is returned, never stored.
    """
    locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
    if locked.state != SessionState.DECIDED or locked.kind != FlowKind.OAUTH:
        return ""
    ctx = locked.context
    client = OAuthClient.objects.filter(client_id=ctx["client_id"], is_active=True).first()
    if client is None or not client.check_redirect_uri(ctx["redirect_uri"]):
        _finish(locked, state=SessionState.FAILED, error="client_gone")
        return ""
    authorization = AuthorizationRequest(
        client=client,
        redirect_uri=ctx["redirect_uri"],
        scope=ctx["scope"],
        state=ctx["state"],
        code_challenge=ctx["code_challenge"],
        code_challenge_method=ctx["code_challenge_method"],
    )
    code: str | None = None  # None: access_denied
    if locked.outcome == Outcome.AUTHORISED and locked.customer and locked.premise:
        grant, code = authorization_code_issue(
            authorization_request=authorization,
            customer=locked.customer,
            premise=locked.premise,
            directions=[locked.direction],
            display_name=client.name,
        )
        locked.grant = grant
    _finish(locked, state=SessionState.COMPLETED)
    _metric_flow_outcome(str(locked.outcome).lower())
    return authorization_response_uri(authorization_request=authorization, code=code)


def _fail(locked: ConnectSession, *, error: str) -> None:
    """Permanent failure: the pending grant is revoked, the tokens erased."""
    if locked.grant_id and locked.grant and locked.grant.status != GrantStatus.REVOKED:
        grant_revoke(grant=locked.grant, reason="flatpeak_rejected")
    _finish(locked, state=SessionState.FAILED, error=error)
    _metric_flow_outcome("failed")


@transaction.atomic
def connect_session_abandon(*, session: ConnectSession, request: HttpRequest) -> ConnectSession:
    """The customer gives up while FlatPeak is unreachable (or after expiry): revoke any pending
    grant and send the browser back to the app without a submission."""
    locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
    if locked.is_finished:
        return locked
    target = connect_session_fallback_redirect(session=locked)
    if locked.grant_id and locked.grant:
        grant_revoke(grant=locked.grant, reason="customer_cancelled")
    locked.outcome = locked.outcome or Outcome.CANCELLED
    if locked.outcome == Outcome.AUTHORISED:
        locked.outcome = Outcome.CANCELLED
        locked.reason = "abandoned_before_acknowledgement"
    audit_record(
        event="consent.abandoned",
        customer=locked.customer,
        request=request,
        detail={"connect_session": locked.public_id, "connect_token": locked.token_hint},
    )
    _finish(
        locked,
        state=SessionState.COMPLETED,
        target=target,
        error="" if target else "redirect_refused",
    )
    _metric_flow_outcome("cancelled")
    return locked


def connect_pending_grants_expire(*, now: dt.datetime | None = None) -> int:
    """Revoke connect-flow grants FlatPeak never acknowledged (past `pending_expires_at`).

    Returns how many grants were revoked. Their sessions lose the stored plaintext tokens.
    """
    now = now or timezone.now()
    count = 0
    stale = Grant.objects.filter(status=GrantStatus.PENDING, pending_expires_at__lt=now)
    for grant in stale.select_related("client", "customer"):
        grant_revoke(grant=grant, reason="pending_expired")
        count += 1
        ConnectSession.objects.filter(grant=grant, state=SessionState.DECIDED).update(
            state=SessionState.FAILED,
            payload_encrypted="",
            token_encrypted="",
            last_submission_error="pending_expired",
            completed_at=now,
        )
    return count


def connect_sessions_expire(*, now: dt.datetime | None = None) -> int:
    """Expire open sessions idle past CONNECT_SESSION_IDLE_MINUTES; delete sessions older than
    AUDIT_RETENTION_DAYS (their decision record ages out with the audit trail).

    Returns how many sessions were expired or deleted. Called by `manage.py cleanup`.
    """
    now = now or timezone.now()
    idle_cutoff = now - dt.timedelta(minutes=settings.CONNECT_SESSION_IDLE_MINUTES)
    expired = ConnectSession.objects.filter(
        state=SessionState.OPEN, last_seen_at__lt=idle_cutoff
    ).update(state=SessionState.EXPIRED)
    for _ in range(expired):
        _metric_flow_outcome("expired")
    # A logo serves only the flow's pages: drop it once the session can show none.
    ConnectSessionLogo.objects.exclude(
        session__state__in=(SessionState.OPEN, SessionState.DECIDED)
    ).delete()
    retention_cutoff = now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    _total, details = ConnectSession.objects.filter(created_at__lt=retention_cutoff).delete()
    deleted = details.get(ConnectSession._meta.label, 0)
    return expired + deleted
