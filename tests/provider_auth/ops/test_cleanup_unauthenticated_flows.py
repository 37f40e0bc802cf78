"""Flow sessions anyone can open (`/oauth/authorize`) go soon after they expire, browser
sessions included; decisions and FlatPeak's flows stay for the audit retention."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import secrets
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client

from provider_auth.connect.models import ConnectSession, FlowKind, Outcome, SessionState
from provider_auth.connect.retention import connect_sessions_unauthenticated_purge
from provider_auth.connect.selectors import session_binding_key

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://partner.example/callback"


@pytest.fixture
def partner(make_oauth_client: Any) -> Any:
    return make_oauth_client(client_id="partner", name="Partner", redirect_uris=[REDIRECT_URI])[0]


def _open(client: Client) -> ConnectSession:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    response = client.get(
        "/oauth/authorize",
        {
            "response_type": "code",
            "client_id": "partner",
            "redirect_uri": REDIRECT_URI,
            "scope": "tariff:read",
            "state": "s",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        },
        secure=True,
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    return ConnectSession.objects.order_by("-pk").first()  # type: ignore[return-value]


def _browser_session(client: Client) -> Session | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return Session.objects.filter(session_key=cookie.value).first() if cookie else None


def _age(flow: ConnectSession, client: Client, minutes: int) -> None:
    """As if the flow (and the browser session saved when it opened) were `minutes` older."""
    delta = dt.timedelta(minutes=minutes)
    ConnectSession.objects.filter(pk=flow.pk).update(
        created_at=flow.created_at - delta, last_seen_at=flow.last_seen_at - delta
    )
    row = _browser_session(client)
    if row is not None:
        Session.objects.filter(pk=row.pk).update(expire_date=row.expire_date - delta)


def test_cleanup_deletes_an_expired_anonymous_authorize_flow_and_its_browser_session(
    partner: Any,
) -> None:
    client = Client()
    flow = _open(client)
    assert flow.kind == FlowKind.OAUTH
    assert _browser_session(client) is not None
    _age(flow, client, minutes=settings.CONNECT_SESSION_IDLE_MINUTES + 1)

    out = io.StringIO()
    call_command("cleanup", stdout=out, stderr=io.StringIO())

    assert "expired unauthenticated OAuth flow sessions: 1 removed" in out.getvalue()
    assert not ConnectSession.objects.filter(pk=flow.pk).exists()
    assert _browser_session(client) is None


def test_a_flow_still_within_its_idle_time_is_kept(partner: Any) -> None:
    client = Client()
    flow = _open(client)
    _age(flow, client, minutes=settings.CONNECT_SESSION_IDLE_MINUTES - 5)
    assert connect_sessions_unauthenticated_purge() == 0
    assert ConnectSession.objects.filter(pk=flow.pk).exists()
    assert _browser_session(client) is not None


def test_a_decided_authorize_flow_is_evidence_and_stays(partner: Any) -> None:
    client = Client()
    flow = _open(client)
    ConnectSession.objects.filter(pk=flow.pk).update(
        state=SessionState.DECIDED, outcome=Outcome.DECLINED
    )
    _age(flow, client, minutes=settings.CONNECT_SESSION_IDLE_MINUTES + 60)
    assert connect_sessions_unauthenticated_purge() == 0
    assert ConnectSession.objects.filter(pk=flow.pk).exists()


def test_flatpeak_flows_opened_with_a_connect_token_stay_for_the_audit_retention(
    partner: Any,
) -> None:
    client = Client()
    flow = _open(client)
    ConnectSession.objects.filter(pk=flow.pk).update(
        kind=FlowKind.FLATPEAK, state=SessionState.EXPIRED
    )
    _age(flow, client, minutes=settings.CONNECT_SESSION_IDLE_MINUTES + 60)
    assert connect_sessions_unauthenticated_purge() == 0
    assert ConnectSession.objects.filter(pk=flow.pk).exists()


def test_a_logged_in_browser_keeps_its_session_and_loses_only_the_binding(
    partner: Any, make_customer: Any
) -> None:
    client = Client()
    client.force_login(make_customer())
    flow = _open(client)
    _age(flow, client, minutes=settings.CONNECT_SESSION_IDLE_MINUTES + 1)
    assert connect_sessions_unauthenticated_purge() == 1
    row = _browser_session(client)
    assert row is not None
    data = row.get_decoded()
    assert "_auth_user_id" in data
    assert session_binding_key(flow.public_id) not in data
