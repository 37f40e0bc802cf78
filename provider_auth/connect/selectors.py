"""Reads for the connect flow. Keyword-only, typed, named entity-first."""

from __future__ import annotations

import datetime as dt
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Premise, User
from accounts.sources import tariff_source
from accounts.sources.base import SupplyAccountNotFound, SupplyPoint
from accounts.sources.stand_ins import premise_stand_in
from accounts.timefmt import rfc3339
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


def connect_session_seen_state(*, session: ConnectSession, now: dt.datetime) -> str:
    """The session's state as a page shows it: an open session idle too long is expired.

    Reads only; the next POST (`connect_session_touch`) or `manage.py cleanup` records it.
    """
    if session.state == SessionState.OPEN and connect_session_is_idle(session=session, now=now):
        return SessionState.EXPIRED
    return session.state


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
        SessionState.SUBMITTING,
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


def redirect_target_without_token(url: str) -> str:
    """The address with any `fp_cot` (the connect token) removed: what we keep in clear."""
    parts = urlsplit(url)
    if "fp_cot" not in parts.query:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "fp_cot"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def connect_session_redirect_target(*, session: ConnectSession) -> str:
    """Where the flow sent the browser at the end, in full (with `fp_cot`); empty if nowhere.

    Only for the browser bound to the flow: the address carries the spent connect token.
    """
    if not session.redirect_target_encrypted:
        return session.redirect_target
    try:
        return str(crypto.payload_decrypt(session.redirect_target_encrypted)["url"])
    except (ValueError, KeyError):
        return session.redirect_target


def connect_session_customer(*, session: ConnectSession, user: User | object) -> User | None:
    """The customer of the session, if the browser is still logged in as them."""
    if session.customer_id and getattr(user, "pk", None) == session.customer_id:
        return session.customer
    return None


def connect_session_supply_points(*, session: ConnectSession, customer: User) -> list[SupplyPoint]:
    """The customer's supply points in the session's direction with a contract in force now, as
    the tariff source knows them (our database is one). Raises the source's
    `TariffSourceError` when it cannot answer; an account it does not know has nothing to
    share."""
    source = tariff_source()
    now = timezone.now()
    try:
        points = source.supply_points(customer=customer)
    except SupplyAccountNotFound:
        return []
    return [
        point
        for point in points
        if point.direction == session.direction
        and source.contract_in_force(
            customer=customer, reference=point.reference, direction=point.direction, at=now
        )
        is not None
    ]


def _premises_recorded(*, customer: User, points: list[SupplyPoint]) -> QuerySet[Premise]:
    references = {point.reference for point in points}
    return Premise.objects.filter(customer=customer, reference__in=references).order_by("reference")


def connect_session_premises(*, session: ConnectSession, customer: User) -> QuerySet[Premise]:
    """The premises the customer can share in the session's direction: our records of the
    eligible supply points. With our database as the source they are those premises; a
    billing platform's are recorded on a POST (`services.connect_session_premises_sync`)."""
    return _premises_recorded(
        customer=customer,
        points=connect_session_supply_points(session=session, customer=customer),
    )


def connect_session_premise_choices(*, session: ConnectSession, customer: User) -> list[Premise]:
    """What the customer may choose from: the eligible premises and unsaved stand-ins for
    eligible supply points not recorded yet (choosing one, a POST, records it; with our
    database as the source every one is recorded). Reads only, so the step page writes
    nothing."""
    points = connect_session_supply_points(session=session, customer=customer)
    premises = list(_premises_recorded(customer=customer, points=points))
    known = {p.reference for p in premises}
    places: dict[str, SupplyPoint] = {}
    for point in points:
        if point.reference not in known:
            places.setdefault(point.reference, point)
    premises += [premise_stand_in(point=point) for point in places.values()]
    return sorted(premises, key=lambda p: p.reference)


def flatpeak_oauth_client_get() -> OAuthClient | None:
    return OAuthClient.objects.filter(
        client_id=settings.FLATPEAK_OAUTH_CLIENT_ID, is_active=True
    ).first()


def premise_contract_term(
    *, customer: User, premise: Premise, direction: str
) -> dict[str, str | None]:
    """The dates of the contract in force, as the tariff source tells them, RFC 3339 UTC,
    `null` when unknown (docs/flatpeak-contract.md §4)."""
    contract = tariff_source().contract_in_force(
        customer=customer, reference=premise.reference, direction=direction, at=timezone.now()
    )
    return {
        "contract_start_date": rfc3339(contract.start_at if contract else None),
        "contract_end_date": rfc3339(contract.end_at if contract else None),
    }
