"""Session lifetime: idle and absolute timeouts, "log out everywhere".

Threat: a session left open on a shared device or stolen from a browser stays useful forever.
Every authenticated session records when it logged in and when it was last seen; the middleware
ends it after SESSION_IDLE_SECONDS without a request, SESSION_COOKIE_AGE after login whatever
the activity, or when the customer chose "log out everywhere" after it began. Django's `login()`
already renews the session key (fixation); we only add the timestamps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from provider_auth.audit.services import audit_record
from provider_auth.security.models import SessionCutoff

LOGIN_AT = "_security_login_at"
LAST_SEEN = "_security_last_seen"
# Writing the session on every request would cost a DB write per page; a minute of slack on the
# idle timeout is immaterial.
LAST_SEEN_RESOLUTION = 60


@receiver(user_logged_in, dispatch_uid="security_session_login_at")
def _stamp_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[LAST_SEEN] = now


def session_expiry_reason(*, request: HttpRequest, now: float | None = None) -> str | None:
    """Why the request's authenticated session must end now, or None."""
    now = time.time() if now is None else now
    session = request.session
    login_at = session.get(LOGIN_AT)
    last_seen = session.get(LAST_SEEN, login_at)
    if login_at is None:
        return "unstamped"  # logged in by something that bypassed login(): do not trust it
    if now - float(login_at) > settings.SESSION_COOKIE_AGE:
        return "absolute"
    if last_seen is not None and now - float(last_seen) > settings.SESSION_IDLE_SECONDS:
        return "idle"
    user_id = request.user.pk
    if user_id is None:
        return "unstamped"
    cutoff = (
        SessionCutoff.objects.filter(user_id=user_id).values_list("not_before", flat=True).first()
    )
    if cutoff is not None and float(login_at) < cutoff.timestamp():
        return "logged_out_everywhere"
    return None


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware: end sessions that are too old, idle or cut off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            reason = session_expiry_reason(request=request, now=now)
            if reason is not None:
                audit_record(
                    event="session.ended", customer=user, request=request, detail={"why": reason}
                )
                logout(request)  # flushes the session; the request goes on anonymous
            elif now - float(request.session.get(LAST_SEEN, 0)) >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


@transaction.atomic
def user_logout_everywhere(
    *, user: User, request: HttpRequest | None = None, keep_current: bool = False
) -> None:
    """End every session of `user` (on every device); optionally keep the caller's one alive."""
    now = timezone.now()
    SessionCutoff.objects.update_or_create(user=user, defaults={"not_before": now})
    audit_record(event="session.logout_everywhere", customer=user, actor=user, request=request)
    if request is not None and keep_current and hasattr(request, "session"):
        # Re-stamp the current session just after the cut-off and give it a fresh key.
        request.session.cycle_key()
        request.session[LOGIN_AT] = (now + dt.timedelta(microseconds=1)).timestamp()
        request.session[LAST_SEEN] = time.time()
