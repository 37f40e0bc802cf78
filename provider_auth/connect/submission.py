"""Delivering a recorded decision: to FlatPeak (the connect flow) or to an OAuth client.

The decision is committed first (`services.connect_session_decide`, with the pending grant).
The submission to FlatPeak is then claimed with a compare-and-set state change (DECIDED →
SUBMITTING, committed), sent outside any transaction or row lock, and its outcome recorded in a
short transaction of its own. A second "Allow" (double tap) loses the claim, sends nothing and
waits for the first one's outcome. Nothing FlatPeak answers can undo the record of what it was
told: whatever it returns is checked before the outcome transaction, and a refused redirect
still completes the flow (without sending the browser there).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from provider_auth.audit.services import audit_record
from provider_auth.connect import crypto
from provider_auth.connect.metrics import flow_outcome_count
from provider_auth.connect.models import ConnectSession, FlowKind, Outcome, SessionState
from provider_auth.connect.selectors import (
    connect_session_fallback_redirect,
    connect_session_redirect_target,
    connect_session_token,
    redirect_target_without_token,
)
from provider_auth.flatpeak.client import FlatPeakClient, redirect_host_allowed
from provider_auth.flatpeak.errors import (
    FlatPeakMisconfigured,
    FlatPeakNotFound,
    FlatPeakRejected,
    FlatPeakUnavailable,
)
from provider_auth.oauth.authorize import (
    AuthorizationRequest,
    authorization_code_issue,
    authorization_response_uri,
)
from provider_auth.oauth.models import GrantStatus, OAuthClient
from provider_auth.oauth.services import grant_activate, grant_revoke


class SubmissionStatus(enum.StrEnum):
    """What a delivery attempt means for the browser."""

    # Delivered; `redirect_target` is where the browser goes.
    COMPLETED = "completed"
    # Delivered, but there is no allowed address to send the browser to.
    REDIRECT_REFUSED = "redirect_refused"
    # Not delivered yet (FlatPeak unreachable or busy elsewhere): the decision waits for a retry.
    UNAVAILABLE = "unavailable"
    # Refused for good: the pending grant is revoked.
    REJECTED = "rejected"
    # FlatPeak no longer knows the connect token.
    EXPIRED = "expired"
    # Nothing awaits delivery (no decision yet, or finished by another request).
    NOT_PENDING = "not_pending"


class SubmissionError(enum.StrEnum):
    """Why a flow did not end as planned, kept in `ConnectSession.last_submission_error`.

    A refusal is stored as `rejected_<FlatPeak's status>`; a transient failure as the name of the
    client's error class until the retry succeeds.
    """

    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (an error code, not a secret)
    UNDECRYPTABLE = "undecryptable"
    REDIRECT_REFUSED = "redirect_refused"
    CLIENT_GONE = "client_gone"
    PENDING_EXPIRED = "pending_expired"


@dataclass(frozen=True)
class SubmissionResult:
    session: ConnectSession
    status: SubmissionStatus
    # Where to send the browser (COMPLETED only): the full address, never stored in clear.
    redirect_target: str = ""


logger = logging.getLogger(__name__)

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


def _fail(locked: ConnectSession, *, error: str) -> None:
    """Permanent failure: the pending grant is revoked, the tokens erased."""
    if locked.grant_id and locked.grant and locked.grant.status != GrantStatus.REVOKED:
        grant_revoke(grant=locked.grant, reason="flatpeak_rejected")
    _finish(locked, state=SessionState.FAILED, error=error)
    flow_outcome_count("failed")


def _submission_result(session: ConnectSession) -> SubmissionResult:
    """What a finished (or released) submission means for a request that did not send it."""
    if session.state == SessionState.COMPLETED:
        target = connect_session_redirect_target(session=session)
        if target:
            return SubmissionResult(
                session=session, status=SubmissionStatus.COMPLETED, redirect_target=target
            )
        return SubmissionResult(session=session, status=SubmissionStatus.REDIRECT_REFUSED)
    if session.state == SessionState.FAILED:
        if session.last_submission_error == SubmissionError.TOKEN_EXPIRED:
            return SubmissionResult(session=session, status=SubmissionStatus.EXPIRED)
        return SubmissionResult(session=session, status=SubmissionStatus.REJECTED)
    if session.state in (SessionState.DECIDED, SessionState.SUBMITTING):
        return SubmissionResult(session=session, status=SubmissionStatus.UNAVAILABLE)
    return SubmissionResult(session=session, status=SubmissionStatus.NOT_PENDING)


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


def _submission_record(
    *, session: ConnectSession, record: Callable[[ConnectSession], None]
) -> tuple[ConnectSession, bool]:
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
            session=claimed, record=lambda row: _fail(row, error=SubmissionError.UNDECRYPTABLE)
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
            session=claimed, record=lambda row: _fail(row, error=SubmissionError.TOKEN_EXPIRED)
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
            error="" if target else SubmissionError.REDIRECT_REFUSED,
        )
        flow_outcome_count(str(row.outcome).lower())

    locked, recorded = _submission_record(session=claimed, record=complete)
    if recorded and not target:
        logger.error(
            "FlatPeak acknowledged %s but the redirect target is missing or its host is not in "
            "FLATPEAK_REDIRECT_HOSTS; the browser is not redirected",
            locked.token_hint,
        )
    if recorded and target:
        return SubmissionResult(
            session=locked, status=SubmissionStatus.COMPLETED, redirect_target=target
        )
    return _submission_result(locked)


@transaction.atomic
def connect_session_oauth_finish(*, session: ConnectSession) -> SubmissionResult:
    """Complete an OAuth-kind session: the redirect to the client's registered URI.

    Allow issues one code (row lock: a double tap yields one); anything else answers
    `access_denied`. The URL carries the code, so it is returned, never stored; a session that
    is not (or no longer) awaiting delivery is NOT_PENDING, a client gone since is REJECTED.
    """
    locked = ConnectSession.objects.select_for_update().get(pk=session.pk)
    if locked.state != SessionState.DECIDED or locked.kind != FlowKind.OAUTH:
        return SubmissionResult(session=locked, status=SubmissionStatus.NOT_PENDING)
    ctx = locked.context
    client = OAuthClient.objects.filter(client_id=ctx["client_id"], is_active=True).first()
    if client is None or not client.check_redirect_uri(ctx["redirect_uri"]):
        _finish(locked, state=SessionState.FAILED, error=SubmissionError.CLIENT_GONE)
        return SubmissionResult(session=locked, status=SubmissionStatus.REJECTED)
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
    flow_outcome_count(str(locked.outcome).lower())
    return SubmissionResult(
        session=locked,
        status=SubmissionStatus.COMPLETED,
        redirect_target=authorization_response_uri(authorization_request=authorization, code=code),
    )


@transaction.atomic
def connect_session_abandon(
    *, session: ConnectSession, ip: str | None, user_agent: str
) -> ConnectSession:
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
        ip=ip,
        user_agent=user_agent,
        detail={"connect_session": locked.public_id, "connect_token": locked.token_hint},
    )
    _finish(
        locked,
        state=SessionState.COMPLETED,
        target=target,
        error="" if target else SubmissionError.REDIRECT_REFUSED,
    )
    flow_outcome_count("cancelled")
    return locked
