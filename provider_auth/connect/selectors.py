"""Reads for the connect flow. Keyword-only, typed, named entity-first."""

from __future__ import annotations

import datetime as dt
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Premise, User
from accounts.selectors import contract_get_active, premise_list_with_active_contract
from provider_auth.connect import crypto
from provider_auth.connect.models import (
    ConnectSession,
    ConnectSessionLogo,
    FlowKind,
    SessionState,
)
from provider_auth.flatpeak.client import SessionContext, redirect_host_allowed
from provider_auth.oauth.models import OAuthClient
from provider_auth.oauth.tokens import secret_hash


def session_binding_key(public_id: str) -> str:
    return f"connect:{public_id}"


def connect_session_get(*, public_id: str) -> ConnectSession | None:
    return (
        ConnectSession.objects.select_related("customer", "premise")
        .filter(public_id=public_id)
        .first()
    )


def connect_session_get_by_token(*, connect_token: str) -> ConnectSession | None:
    return ConnectSession.objects.filter(token_hash=secret_hash(connect_token)).first()


def connect_session_is_bound(*, session: ConnectSession, request: HttpRequest) -> bool:
    """True only in the browser (Django session) that opened this connect session."""
    secret = request.session.get(session_binding_key(session.public_id), "")
    if not isinstance(secret, str) or not secret:
        return False
    return hmac.compare_digest(secret_hash(secret), session.browser_binding_hash)


def connect_session_is_idle(*, session: ConnectSession, now: dt.datetime) -> bool:
    idle = dt.timedelta(minutes=settings.CONNECT_SESSION_IDLE_MINUTES)
    return now - session.last_seen_at > idle


def connect_session_context(*, session: ConnectSession) -> SessionContext:
    return SessionContext.from_dict(session.context)


def connect_session_logo_exists(*, session: ConnectSession) -> bool:
    """True when a checked logo is stored for the session (pages then show `connect:logo`)."""
    return ConnectSessionLogo.objects.filter(session_id=session.pk).exists()


def connect_session_logo_get(*, session: ConnectSession) -> ConnectSessionLogo | None:
    """The stored logo, only while the session's pages can show it (open or awaiting retry)."""
    if session.kind != FlowKind.FLATPEAK or session.state not in (
        SessionState.OPEN,
        SessionState.DECIDED,
    ):
        return None
    return ConnectSessionLogo.objects.filter(session_id=session.pk).first()


def connect_session_token(*, session: ConnectSession) -> str:
    """The connect token in clear (for FlatPeak calls and `fp_cot`); empty once erased."""
    if not session.token_encrypted:
        return ""
    try:
        return str(crypto.payload_decrypt(session.token_encrypted)["connect_token"])
    except (ValueError, KeyError):
        return ""


def connect_session_fallback_redirect(*, session: ConnectSession) -> str:
    """`connect_web_uri` with `fp_cot` appended, if its host is allowed; else empty."""
    if session.kind != FlowKind.FLATPEAK:
        return ""
    base = connect_session_context(session=session).connect_web_uri
    token = connect_session_token(session=session)
    if not base or not token:
        return ""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "fp_cot"]
    query.append(("fp_cot", token))
    target = urlunsplit(parts._replace(query=urlencode(query)))
    return target if redirect_host_allowed(target) else ""


def connect_session_customer(*, session: ConnectSession, user: User | object) -> User | None:
    """The customer of the session, if the browser is still logged in as them."""
    if session.customer_id and getattr(user, "pk", None) == session.customer_id:
        return session.customer
    return None


def connect_session_premises(*, session: ConnectSession, customer: User) -> QuerySet[Premise]:
    """The premises the customer can share in the session's direction (active contract)."""
    return premise_list_with_active_contract(customer=customer, direction=session.direction)


def flatpeak_oauth_client_get() -> OAuthClient | None:
    return OAuthClient.objects.filter(
        client_id=settings.FLATPEAK_OAUTH_CLIENT_ID, is_active=True
    ).first()


def premise_contract_term(*, premise: Premise, direction: str) -> dict[str, str | None]:
    """The active contract's dates, RFC 3339 UTC, `null` when unknown (contract §4)."""
    contract = contract_get_active(premise=premise, direction=direction)

    def rfc3339(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "contract_start_date": rfc3339(contract.start_at if contract else None),
        "contract_end_date": rfc3339(contract.end_at if contract else None),
    }
