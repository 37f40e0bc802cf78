"""Periodic clean-up services of the connect flow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.connect.services import connect_sessions_expire

pytestmark = pytest.mark.django_db


def make_session(*, state: str = SessionState.OPEN, age: dt.timedelta, n: int) -> ConnectSession:
    at = timezone.now() - age
    return ConnectSession.objects.create(
        public_id=f"session-{n}",
        browser_binding_hash="0" * 64,
        state=state,
        created_at=at,
        last_seen_at=at,
    )


def test_idle_open_sessions_expire_and_old_ones_are_deleted(settings: Any) -> None:
    fresh = make_session(age=dt.timedelta(minutes=5), n=1)
    idle = make_session(age=dt.timedelta(minutes=45), n=2)
    done = make_session(state=SessionState.COMPLETED, age=dt.timedelta(days=2), n=3)
    ancient = make_session(state=SessionState.COMPLETED, age=dt.timedelta(days=500), n=4)

    assert connect_sessions_expire(now=timezone.now()) == 2

    fresh.refresh_from_db()
    idle.refresh_from_db()
    done.refresh_from_db()
    assert fresh.state == SessionState.OPEN
    assert idle.state == SessionState.EXPIRED
    assert done.state == SessionState.COMPLETED
    assert not ConnectSession.objects.filter(pk=ancient.pk).exists()
    assert connect_sessions_expire(now=timezone.now()) == 0


def test_the_cleanup_command_runs_both_connect_jobs() -> None:
    make_session(age=dt.timedelta(hours=1), n=1)
    call_command("cleanup", "--only", "connect sessions", "--only", "pending grants")
    assert ConnectSession.objects.get().state == SessionState.EXPIRED
