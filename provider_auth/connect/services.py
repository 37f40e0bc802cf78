"""Writes of the connect flow: open, bind, log in, choose, decide, submit, expire.

The decision is committed first (with the pending grant, in one transaction). The submission
to FlatPeak is then claimed with a compare-and-set state change (DECIDED → SUBMITTING,
committed), sent outside any transaction or row lock, and its outcome recorded in a short
transaction of its own. A second "Allow" (double tap) loses the claim, sends nothing and waits
for the first one's outcome. Nothing FlatPeak answers can undo the record of what it was told:
whatever it returns is checked before the outcome transaction, and a refused redirect still
completes the flow (without sending the browser there).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
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
    connect_session_redirect_target,
    connect_session_token,
    premise_contract_term,
    redirect_target_without_token,
    secret_digest,
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
    issuer,
    redirect_uri_with_params,
)
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient
from provider_auth.oauth.services import grant_activate, grant_issue, grant_revoke
from provider_auth.security.network import client_ip

logger = logging.getLogger(__name__)

SCOPE = "tariff:read"
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
                token_hash=secret_digest(connect_token),
                token_hint=connect_token_redact(connect_token),
                token_encrypted=crypto.payload_encrypt({"connect_token": connect_token}),
                browser_binding_hash=secret_digest(secret),
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
        browser_binding_hash=secret_digest(secret),
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
    # Where to send the browser ("completed" only): the full address, never stored in clear.
    redirect_target: str = ""


# A claim older than the client's whole-call deadline plus this margin belongs to a worker that
# died mid-call: another request may take it over (the Idempotency-Key makes the resend safe).
SUBMISSION_CLAIM_MARGIN_SECONDS = 10.0
_WAIT_POLL_SECONDS = 0.1


def _submission_claim_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=settings.FLATPEAK_RETRY_DEADLINE + SUBMISSION_CLAIM_MARGIN_SECONDS)


def _finish(locked: ConnectSession, *, state: str, error: str = "", target: str = "") -> None:
    locked.state = state
    locked.last_submission_error = error
    # The spent connect token is kept neither in clear nor at all once the flow is over; the
    # full address (FlatPeak's `fp_cot`) stays readable only for the browser bound to the flow.
    locked.redirect_target = redirect_target_without_token(target) if target else ""
    locked.redirect_target_encrypted = crypto.payload_encrypt({"url": target}) if target else ""
    locked.payload_encrypted = ""  # plaintext tokens are erased once FlatPeak has them (or not)
    locked.token_encrypted = ""
    locked.completed_at = timezone.now()
    locked.save()


def _submission_result(session: ConnectSession) -> SubmissionResult:
    """What a finished (or released) submission means for a request that did not send it."""
    if session.state == SessionState.COMPLETED:
        target = connect_session_redirect_target(session=session)
        if target:
            return SubmissionResult(session=session, status="completed", redirect_target=target)
        return SubmissionResult(session=session, status="redirect_refused")
    if session.state == SessionState.FAILED:
        if session.last_submission_error == "token_expired":
            return SubmissionResult(session=session, status="expired")
        return SubmissionResult(session=session, status="rejected")
    if session.state in (SessionState.DECIDED, SessionState.SUBMITTING):
        return SubmissionResult(session=session, status="unavailable")
    return SubmissionResult(session=session, status="rejected")


def connect_session_submission_claim(*, session: ConnectSession) -> bool:
    """Take the submission (DECIDED → SUBMITTING) if no one else holds it; True if taken.

    A single conditional UPDATE, committed at once: on PostgreSQL and SQLite alike exactly
    one of any number of concurrent callers sees its row count at 1.
    """
    now = timezone.now()
    claimed = (
        ConnectSession.objects.filter(pk=session.pk)
        .filter(
            Q(state=SessionState.DECIDED)
            | Q(
                state=SessionState.SUBMITTING,
                submission_started_at__lt=now - _submission_claim_lifetime(),
            )
        )
        .update(
            state=SessionState.SUBMITTING,
            submission_started_at=now,
            submission_attempts=F("submission_attempts") + 1,
        )
    )
    return claimed == 1


def _submission_wait(*, session: ConnectSession) -> SubmissionResult:
    """Another request holds the claim: wait (bounded) for the outcome it records."""
    give_up = time.monotonic() + _submission_claim_lifetime().total_seconds()
    while True:
        current = ConnectSession.objects.get(pk=session.pk)
        if current.state != SessionState.SUBMITTING or time.monotonic() > give_up:
            return _submission_result(current)
        time.sleep(_WAIT_POLL_SECONDS)


def _submission_record(*, session: ConnectSession, record: Any) -> tuple[ConnectSession, bool]:
    """Run `record(locked)` in a short transaction if this request still holds the claim.

    Returns the row and whether it was recorded; False means another request took the claim
    over (this one outlived the claim's lifetime) and its outcome stands.
    """
    with transaction.atomic():
        locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
        if locked.state != SessionState.SUBMITTING:
            return locked, False
        record(locked)
        return locked, True


def connect_session_submit(
    *, session: ConnectSession, client: FlatPeakClient | None = None
) -> SubmissionResult:
    """Send the recorded decision to FlatPeak (identical body and key on every try).

    Claims the submission first (see `connect_session_submission_claim`); the FlatPeak call runs
    with no transaction open, so no lock is held for up to FLATPEAK_RETRY_DEADLINE. A request
    that finds the claim taken sends nothing and answers with the other request's outcome.
    """
    if not connect_session_submission_claim(session=session):
        current = ConnectSession.objects.get(pk=session.pk)
        if current.state == SessionState.SUBMITTING:
            return _submission_wait(session=current)
        return _submission_result(current)
    claimed = ConnectSession.objects.select_related("grant").get(pk=session.pk)
    try:
        payload = crypto.payload_decrypt(claimed.payload_encrypted)
    except ValueError:
        logger.error(
            "Cannot decrypt the stored submission of %s (key changed?)", claimed.token_hint
        )
        locked, _ = _submission_record(
            session=claimed, record=lambda row: _fail(row, error="undecryptable")
        )
        return _submission_result(locked)
    token = connect_session_token(session=claimed)
    # The fallback needs the token, which _finish erases: compute it first.
    fallback = connect_session_fallback_redirect(session=claimed)
    try:
        result = (client or FlatPeakClient()).session_submit(
            connect_token=token, payload=payload, idempotency_key=claimed.idempotency_key
        )
    except (FlatPeakUnavailable, FlatPeakMisconfigured) as error:
        # Transient (or an operator fix away): the decision stays; "Try again" resends it.
        error_name = type(error).__name__

        def release(row: ConnectSession) -> None:
            row.state = SessionState.DECIDED
            row.last_submission_error = error_name
            row.save(update_fields=["state", "last_submission_error"])

        locked, _ = _submission_record(session=claimed, record=release)
        return _submission_result(locked)
    except FlatPeakNotFound:
        locked, _ = _submission_record(
            session=claimed, record=lambda row: _fail(row, error="token_expired")
        )
        return _submission_result(locked)
    except FlatPeakRejected as error:
        code = f"rejected_{error.status or 'invalid'}"
        locked, _ = _submission_record(session=claimed, record=lambda row: _fail(row, error=code))
        return _submission_result(locked)

    # FlatPeak holds the tokens now. Everything below only decides where the browser goes; the
    # answer is checked before the outcome transaction, so no character FlatPeak sends can
    # make that transaction fail and leave our grant pending (later revoked) behind its back.
    target = result.redirect_uri or fallback
    if result.redirect_uri and not redirect_host_allowed(result.redirect_uri):
        target = ""

    def complete(row: ConnectSession) -> None:
        if row.grant is not None:
            grant_activate(grant=row.grant)
        _finish(
            row,
            state=SessionState.COMPLETED,
            target=target,
            error="" if target else "redirect_refused",
        )
        _metric_flow_outcome(str(row.outcome).lower())

    locked, recorded = _submission_record(session=claimed, record=complete)
    if recorded and not target:
        logger.error(
            "FlatPeak acknowledged %s but the redirect target is missing or its host is not in "
            "FLATPEAK_REDIRECT_HOSTS; the browser is not redirected",
            locked.token_hint,
        )
    if recorded and target:
        return SubmissionResult(session=locked, status="completed", redirect_target=target)
    return _submission_result(locked)


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
    if locked.outcome == Outcome.AUTHORISED and locked.customer and locked.premise:
        grant, code = authorization_code_issue(
            authorization_request=authorization,
            customer=locked.customer,
            premise=locked.premise,
            directions=[locked.direction],
            display_name=client.name,
        )
        locked.grant = grant
        params = {"code": code, "state": authorization.state, "iss": issuer()}
    else:
        params = {
            "error": "access_denied",
            "error_description": "The customer did not allow access.",
            "state": authorization.state,
            "iss": issuer(),
        }
    _finish(locked, state=SessionState.COMPLETED)
    _metric_flow_outcome(str(locked.outcome).lower())
    return redirect_uri_with_params(authorization.redirect_uri, params)


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
    if locked.is_finished or locked.state == SessionState.SUBMITTING:
        # A submission in flight may already have reached FlatPeak: its outcome decides.
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
        ConnectSession.objects.filter(
            grant=grant, state__in=(SessionState.DECIDED, SessionState.SUBMITTING)
        ).update(
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
