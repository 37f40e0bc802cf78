"""Writes of the connect flow: start, log in, choose, decide, expire.

Services take plain values (the client's address and user agent, never the `HttpRequest`) and
never touch the browser's Django session: a service that binds a flow to a browser returns the
secret, and the view stores it. Delivering a decision (to FlatPeak or an OAuth client) is
`provider_auth.connect.submission`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Premise, User
from accounts.sources.base import TariffSourceError
from accounts.sources.mirror import premise_mirror_sync
from provider_auth.audit.services import audit_record
from provider_auth.connect import crypto
from provider_auth.connect.errors import (
    ConnectLinkExpired,
    ConnectLinkInvalid,
    ConnectNotConfigured,
)
from provider_auth.connect.metrics import flow_outcome_count
from provider_auth.connect.models import (
    ConnectSession,
    ConnectSessionLogo,
    FlowKind,
    Outcome,
    SessionState,
)
from provider_auth.connect.selectors import (
    connect_session_get_by_token,
    connect_session_is_idle,
    connect_session_premises,
    connect_session_supply_points,
    flatpeak_oauth_client_get,
    premise_contract_term,
)
from provider_auth.connect.submission import SubmissionError
from provider_auth.flatpeak.client import (
    FlatPeakClient,
    SessionContext,
    connect_token_is_valid,
    connect_token_redact,
)
from provider_auth.flatpeak.errors import FlatPeakNotFound
from provider_auth.flatpeak.logo import Logo, partner_logo_fetch
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient
from provider_auth.oauth.scopes import SCOPES_SUPPORTED
from provider_auth.oauth.services import grant_issue, grant_revoke
from provider_auth.oauth.tokens import secret_hash

# FlatPeak's connect flow asks for every data type: the tariff, the contract dates, the address.
SCOPE = " ".join(sorted(SCOPES_SUPPORTED))
AUDIT_EVENTS = {
    Outcome.AUTHORISED: "consent.given",
    Outcome.DECLINED: "consent.denied",
    Outcome.CANCELLED: "consent.cancelled",
    Outcome.LOGIN_FAILED: "consent.login_failed",
    Outcome.NO_TARIFF: "consent.no_tariff",
}

logger = logging.getLogger(__name__)


class ConnectDecisionInvalid(Exception):  # noqa: N818 (reads as a sentence at the call site)
    """The decision cannot be recorded (e.g. the premise is not the customer's any more)."""


@dataclass(frozen=True)
class ConnectStart:
    """A flow session for a browser. `binding_secret` is set only when this call created it:
    the view then stores it in the browser's Django session, which binds the flow to it."""

    session: ConnectSession
    binding_secret: str = ""


def connect_session_start(
    *,
    connect_token: str,
    ip: str | None,
    user_agent: str,
    client: FlatPeakClient | None = None,
) -> ConnectStart:
    """The flow session of a connect token: found, or opened on the token's first arrival.

    On the first arrival FlatPeak is asked for the session context and the device maker's logo
    is fetched (checked, kept with the session, served from our origin). Raises
    `ConnectLinkInvalid` for a malformed token (before any call), `ConnectNotConfigured` when
    FlatPeak's OAuth client is missing, `ConnectLinkExpired` when FlatPeak does not know the
    token, and lets `FlatPeakUnavailable`, `FlatPeakMisconfigured` and `FlatPeakRejected`
    through.
    """
    if not connect_token_is_valid(connect_token):
        raise ConnectLinkInvalid("malformed connect token")
    existing = connect_session_get_by_token(connect_token=connect_token)
    if existing is not None:
        return ConnectStart(session=existing)
    if flatpeak_oauth_client_get() is None:
        raise ConnectNotConfigured(
            "No active OAuth client with client_id=FLATPEAK_OAUTH_CLIENT_ID: run "
            "`manage.py create_oauth_client` for FlatPeak; the connect flow cannot work"
        )
    try:
        context = (client or FlatPeakClient()).session_context_get(connect_token=connect_token)
    except FlatPeakNotFound as error:
        raise ConnectLinkExpired("FlatPeak does not know the connect token") from error
    logo = partner_logo_fetch(url=context.logo_url, label=connect_token_redact(connect_token))
    return connect_session_open(
        connect_token=connect_token, context=context, logo=logo, ip=ip, user_agent=user_agent
    )


def connect_session_open(
    *,
    connect_token: str,
    context: SessionContext,
    ip: str | None,
    user_agent: str,
    logo: Logo | None = None,
) -> ConnectStart:
    """Create the connect session for a token on its first arrival, bound to a new secret.

    `logo` is the device maker's logo, already fetched and checked (`flatpeak.logo`); it is
    kept with the session and served from our origin. If the same token was opened
    concurrently, the existing row wins and is returned without a secret (the caller then
    checks the binding, as for any later arrival).
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
        return ConnectStart(session=existing)
    audit_record(
        event="connect.opened",
        ip=ip,
        user_agent=user_agent,
        detail={
            "connect_token": session.token_hint,
            "flatpeak_account_id": context.account_id,
            "flatpeak_account_name": context.display_name,
            "direction": context.direction,
            "redirect_uri": context.redirect_uri,
        },
    )
    return ConnectStart(session=session, binding_secret=secret)


def connect_session_open_oauth(*, authorization: dict[str, Any]) -> ConnectStart:
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
    return ConnectStart(session=session, binding_secret=secret)


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
            flow_outcome_count("expired")
        session.refresh_from_db()
        return session
    session.last_seen_at = now
    session.save(update_fields=["last_seen_at"])
    return session


def connect_session_premises_sync(*, session: ConnectSession, customer: User) -> list[Premise]:
    """The premises the customer can share in the session's direction, with every eligible
    supply point of the tariff source recorded as our premise so a grant can name the one
    chosen. Idempotent: only what is missing or changed is written, so with our database as
    the source (its supply points are our premises) nothing is."""
    return premise_mirror_sync(
        customer=customer,
        points=connect_session_supply_points(session=session, customer=customer),
    )


def connect_session_login(*, session: ConnectSession, customer: User) -> ConnectSession:
    """The customer proved who they are; a different customer starts the choice afresh.

    With nothing chosen and exactly one premise to share, that premise is chosen now, so the
    step page that follows only reads.
    """
    if session.customer_id != customer.pk:
        session.premise = None
    if session.premise is None:
        try:
            eligible = connect_session_premises_sync(session=session, customer=customer)
        except TariffSourceError as error:
            # The login stands; the step page asks the billing platform again (and says it is
            # unavailable, with Try again and Cancel, while it is).
            logger.warning("Tariff source unavailable at login: %s", error)
            eligible = []
        if len(eligible) == 1:
            session.premise = eligible[0]
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
    eligible = connect_session_premises_sync(session=session, customer=customer)
    premise = next((p for p in eligible if p.reference == premise_reference), None)
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
    ip: str | None,
    user_agent: str,
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
                "contract_term": premise_contract_term(
                    customer=customer, premise=premise, direction=locked.direction
                ),
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
    # The view passes the address seen through our trusted proxies (TRUSTED_PROXY_COUNT).
    locked.decision_ip = ip
    locked.decision_user_agent = user_agent[:300]
    locked.state = SessionState.DECIDED
    if locked.kind == FlowKind.FLATPEAK:
        locked.idempotency_key = secrets.token_hex(16)
        locked.payload_encrypted = crypto.payload_encrypt(payload)
    locked.save()
    audit_record(
        event=AUDIT_EVENTS.get(Outcome(outcome), "consent.other"),
        customer=customer,
        ip=ip,
        user_agent=user_agent,
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
            last_submission_error=SubmissionError.PENDING_EXPIRED,
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
        flow_outcome_count("expired")
    # A logo serves only the flow's pages: drop it once the session can show none.
    ConnectSessionLogo.objects.exclude(
        session__state__in=(SessionState.OPEN, SessionState.DECIDED)
    ).delete()
    retention_cutoff = now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    _total, details = ConnectSession.objects.filter(created_at__lt=retention_cutoff).delete()
    deleted = details.get(ConnectSession._meta.label, 0)
    return expired + deleted
