from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from provider_auth.audit.models import AuditEvent
from provider_auth.audit.services import audit_record
from provider_auth.management.commands import cleanup


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("cleanup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@override_settings(AUDIT_RETENTION_DAYS=30)
def test_cleanup_purges_audit_events_past_retention_and_says_how_many(db: Any) -> None:
    # Audit rows are append-only (queryset and PostgreSQL trigger): create the old one as old.
    AuditEvent.objects.create(
        event="consent.given", created_at=timezone.now() - dt.timedelta(days=31)
    )
    recent = audit_record(event="consent.given")
    output = _run("--only", "audit")
    assert "audit events past AUDIT_RETENTION_DAYS: 1 removed" in output
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_cleanup_clears_expired_browser_sessions(db: Any) -> None:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(-1)
    store.create()
    assert Session.objects.filter(session_key=store.session_key).exists()
    _run("--only", "clearsessions")
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_cleanup_runs_every_job_even_when_one_fails_and_then_exits_non_zero(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    def broken(*, now: dt.datetime) -> int:
        raise RuntimeError("database went away")

    def fine(*, now: dt.datetime) -> int:
        ran.append("fine")
        return 3

    monkeypatch.setattr(cleanup, "JOBS", [("first job", broken), ("second job", fine)])
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="first job"):
        call_command("cleanup", stdout=out, stderr=err)
    assert ran == ["fine"]
    assert "second job: 3 removed" in out.getvalue()
    assert "first job: failed: RuntimeError" in err.getvalue()


def test_cleanup_covers_grants_connect_sessions_tokens_sessions_and_audit() -> None:
    labels = " | ".join(label for label, _ in cleanup.JOBS)
    for needle in ("pending grants", "connect sessions", "cleartokens", "clearsessions", "audit"):
        assert needle in labels
