"""`connect_session_start`: the first arrival of a connect token, as a service with typed refusals."""

from __future__ import annotations

from typing import Any

import pytest

from provider_auth.audit.models import AuditEvent
from provider_auth.connect.errors import (
    ConnectLinkExpired,
    ConnectLinkInvalid,
    ConnectNotConfigured,
)
from provider_auth.connect.models import ConnectSession, ConnectSessionLogo
from provider_auth.connect.services import connect_session_start
from provider_auth.flatpeak.errors import FlatPeakMisconfigured, FlatPeakUnavailable
from provider_auth.oauth.tokens import secret_hash
from tests.provider_auth.connect.conftest import SESSION_URL, TOKEN, FakeFlatPeak

pytestmark = pytest.mark.django_db

VISITOR = {"ip": "203.0.113.9", "user_agent": "HeatlyApp/2.1 WebView"}


@pytest.mark.usefixtures("flatpeak_client")
def test_the_first_arrival_opens_the_session_with_its_logo_and_hands_back_the_binding(
    fake_flatpeak: FakeFlatPeak,
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo()
    start = connect_session_start(connect_token=TOKEN, **VISITOR)
    assert start.binding_secret
    assert start.session.browser_binding_hash == secret_hash(start.binding_secret)
    assert ConnectSessionLogo.objects.filter(session=start.session).exists()
    event = AuditEvent.objects.get(event="connect.opened")
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", "HeatlyApp/2.1 WebView")


@pytest.mark.usefixtures("flatpeak_client")
def test_a_later_arrival_finds_the_session_without_asking_flatpeak_or_binding_again(
    fake_flatpeak: FakeFlatPeak,
) -> None:
    fake_flatpeak.context()
    first = connect_session_start(connect_token=TOKEN, **VISITOR)
    again = connect_session_start(connect_token=TOKEN, **VISITOR)
    assert again.session.pk == first.session.pk
    assert again.binding_secret == ""
    assert fake_flatpeak.context_calls() == 1


@pytest.mark.usefixtures("flatpeak_client")
@pytest.mark.parametrize(
    ("status", "error"),
    [(404, ConnectLinkExpired), (410, ConnectLinkExpired), (401, FlatPeakMisconfigured)],
)
def test_flatpeaks_refusals_are_typed_errors_and_open_nothing(
    fake_flatpeak: FakeFlatPeak, status: int, error: type[Exception]
) -> None:
    fake_flatpeak.mock.get(SESSION_URL, json={}, status=status)
    with pytest.raises(error):
        connect_session_start(connect_token=TOKEN, **VISITOR)
    assert not ConnectSession.objects.exists()


@pytest.mark.usefixtures("flatpeak_client")
def test_an_unreachable_flatpeak_is_flatpeak_unavailable(fake_flatpeak: FakeFlatPeak) -> None:
    fake_flatpeak.mock.get(SESSION_URL, json={}, status=503)
    with pytest.raises(FlatPeakUnavailable):
        connect_session_start(connect_token=TOKEN, **VISITOR)
    assert not ConnectSession.objects.exists()


@pytest.mark.parametrize("token", ["", "cot_123", TOKEN.upper()])
def test_a_malformed_token_is_refused_before_any_call(
    fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, token: str
) -> None:
    with pytest.raises(ConnectLinkInvalid):
        connect_session_start(connect_token=token, **VISITOR)
    assert fake_flatpeak.context_calls() == 0


def test_without_flatpeaks_oauth_client_nothing_is_asked_of_flatpeak(
    fake_flatpeak: FakeFlatPeak,
) -> None:
    fake_flatpeak.context()
    with pytest.raises(ConnectNotConfigured):
        connect_session_start(connect_token=TOKEN, **VISITOR)
    assert fake_flatpeak.context_calls() == 0
