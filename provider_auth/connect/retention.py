"""Retention of flow sessions that nobody vouched for (writes; run by `manage.py cleanup`).

Threat: `GET /oauth/authorize` opens a flow session for anyone who knows a public client id, no
connect token from FlatPeak, no login. Kept until the audit retention (400 days) they let a
script fill the database. Once such a session has expired without a decision it records
nothing worth keeping: it goes at the next clean-up, with the anonymous browser session
(`django_session` row) that held its binding.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from provider_auth.connect.models import ConnectSession, FlowKind, SessionState
from provider_auth.connect.selectors import session_binding_key

# How far a django_session row's expiry may sit from the flow's own times (saves in between).
_SESSION_WINDOW_SLACK = dt.timedelta(minutes=5)
_AUTH_SESSION_KEY = "_auth_user_id"  # django.contrib.auth's key: a logged-in browser


def _flow_keys(public_id: str) -> set[str]:
    # The binding and the pending one-time-code login the connect views keep per flow.
    return {session_binding_key(public_id), f"connect:pending-login:{public_id}"}


def _browser_sessions_release(*, flows: list[ConnectSession]) -> int:
    """Drop the purged flows' keys from browser sessions; delete sessions left with nothing.

    Only rows whose expiry falls where a save during one of these flows put it are decoded (the
    index on expire_date keeps this bounded). A logged-in browser keeps its session.
    """
    if not flows:
        return 0
    age = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    earliest = min(f.created_at for f in flows) + age - _SESSION_WINDOW_SLACK
    latest = max(f.last_seen_at for f in flows) + age + _SESSION_WINDOW_SLACK
    purged = set().union(*(_flow_keys(f.public_id) for f in flows))
    deleted = 0
    for row in Session.objects.filter(expire_date__range=(earliest, latest)).iterator():
        data = row.get_decoded()
        ours = purged.intersection(data)
        if not ours:
            continue
        remaining = {k: v for k, v in data.items() if k not in ours}
        if not remaining and _AUTH_SESSION_KEY not in data:
            row.delete()
            deleted += 1
        else:
            Session.objects.save(row.session_key, remaining, row.expire_date)
    return deleted


def connect_sessions_unauthenticated_purge(*, now: dt.datetime | None = None) -> int:
    """Delete OAuth-authorize flow sessions that expired without a decision, and the browser
    sessions that only held their binding. Returns how many flow sessions were deleted."""
    now = now or timezone.now()
    idle_cutoff = now - dt.timedelta(minutes=settings.CONNECT_SESSION_IDLE_MINUTES)
    stale = ConnectSession.objects.filter(
        kind=FlowKind.OAUTH, outcome="", last_seen_at__lt=idle_cutoff
    ).filter(state__in=(SessionState.OPEN, SessionState.EXPIRED))
    # No row lock needed: an idle flow only ever moves to EXPIRED (connect_session_touch), and
    # no decision can be taken on an expired one.
    with transaction.atomic():
        flows = list(stale)
        _browser_sessions_release(flows=flows)
        _total, details = ConnectSession.objects.filter(pk__in=[f.pk for f in flows]).delete()
    return details.get(ConnectSession._meta.label, 0)
