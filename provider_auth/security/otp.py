"""Optional second factor: a one-time code emailed at login.

Threat: a stolen or reused password alone must not open an account whose holder asked for more.
The code is 6 digits from the OS CSPRNG, valid 10 minutes, 5 guesses, single use. Only an HMAC
of it is kept (in the shared cache, keyed by a random challenge id held in the server-side
session); guesses are counted with an atomic `cache.incr`, and single use rests on
`cache.delete` answering True exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from provider_auth.audit.services import audit_record
from provider_auth.security import lockout
from provider_auth.security.network import client_ip

logger = logging.getLogger(__name__)

OTP_DIGITS = 6
OTP_TTL_SECONDS = 600
OTP_MAX_ATTEMPTS = 5
OTP_MAX_RESENDS = 3
SESSION_KEY = "security_otp_challenge"
# Email backends that deliver nothing: the console one writes the whole message (code included)
# to standard output, which in production is the log stream; the others keep or drop it.
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
UNDELIVERED_EMAIL_BACKENDS = frozenset(
    {
        CONSOLE_EMAIL_BACKEND,
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)
_LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


class VerifyOutcome:
    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"


@dataclass(frozen=True)
class VerifyResult:
    outcome: str
    next_url: str = ""
    attempts_left: int = 0


def safe_next_path(value: str | None) -> str:
    """A same-origin path, or the account home: never a URL that leaves this site."""
    value = value or ""
    if (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return account_home_path()


def account_home_path() -> str:
    """The account site's home (LOGIN_REDIRECT_URL); our security page if that is not routed."""
    try:
        return resolve_url(settings.LOGIN_REDIRECT_URL)
    except NoReverseMatch:
        return reverse("security:settings")


def _code_hmac(*, challenge_id: str, code: str) -> str:
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, f"otp:{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _cache_key(challenge_id: str) -> str:
    return f"otp:code:{challenge_id}"


def _attempts_key(challenge_id: str) -> str:
    return f"otp:attempts:{challenge_id}"


def otp_code_generate() -> str:
    return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"


def otp_email_undelivered() -> bool:
    """Whether one-time codes would go nowhere but stdout, a file or memory in production."""
    return not settings.DEBUG and settings.EMAIL_BACKEND in UNDELIVERED_EMAIL_BACKENDS


def _otp_send(*, user: User, code: str) -> None:
    if not settings.DEBUG and settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
        # Never print a code where logs are collected; the deploy check (provider_auth.W009 /
        # E009) tells the operator before this happens.
        logger.error(
            "one-time code not sent: EMAIL_URL delivers no mail with DEBUG off (set an smtp URL)",
            extra={"user_id": user.pk},
        )
        return
    subject = _("Your %(brand)s one-time code") % {"brand": settings.BRAND_NAME}
    body = _(
        "Your one-time code is %(code)s.\n\n"
        "It is valid for 10 minutes and can be used once. Nobody from %(brand)s will ever ask "
        "you for it. If you did not just try to log in, change your password."
    ) % {"code": code, "brand": settings.BRAND_NAME}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # the page still offers "send a new code"; never a 500 at login
        logger.exception("one-time code email could not be sent", extra={"user_id": user.pk})


def otp_challenge_issue(*, request: HttpRequest, user: User) -> str:
    """Create (or replace) the session's challenge for `user`, email the code; returns its id."""
    previous = request.session.get(SESSION_KEY) or {}
    if previous.get("id"):
        cache.delete(_cache_key(previous["id"]))
    challenge_id = secrets.token_urlsafe(24)
    code = otp_code_generate()
    cache.set(
        _cache_key(challenge_id),
        {"user_id": user.pk, "hmac": _code_hmac(challenge_id=challenge_id, code=code)},
        timeout=OTP_TTL_SECONDS,
    )
    cache.set(_attempts_key(challenge_id), 0, timeout=OTP_TTL_SECONDS)
    _otp_send(user=user, code=code)
    return challenge_id


def otp_challenge_start(
    *,
    request: HttpRequest,
    user: User,
    next_url: str,
    cancel_url: str | None = None,
    cancel_label: str | None = None,
    keep_session_keys: Sequence[str] = (),
) -> HttpResponse:
    """Email a code to `user` and send the browser (303) to the "One-time code" page.

    The user is *not* logged in until the code is verified; then the session key is renewed and
    the browser goes to `next_url` (same-origin paths only). `cancel_url` (a same-origin path
    that accepts POST, e.g. the connect flow's cancel) adds a Cancel control to the page.
    `keep_session_keys` name this browser's own entries (a connect flow's binding) that must
    survive the login: logging in over another account's session empties the session.
    """
    challenge_id = otp_challenge_issue(request=request, user=user)
    request.session[SESSION_KEY] = {
        "id": challenge_id,
        "user_id": user.pk,
        "next": safe_next_path(next_url),
        "cancel": safe_next_path(cancel_url) if cancel_url else "",
        "cancel_label": str(cancel_label or ""),
        "keep": [str(key) for key in keep_session_keys],
        "resends": 0,
        "started": timezone.now().timestamp(),
    }
    audit_record(event="login.otp_sent", customer=user, request=request)
    return HttpResponseRedirect(reverse("security:otp_verify"), status=303)


def otp_challenge_get(*, request: HttpRequest) -> dict[str, Any] | None:
    challenge = request.session.get(SESSION_KEY)
    return challenge if isinstance(challenge, dict) and challenge.get("id") else None


def otp_challenge_resend(*, request: HttpRequest) -> bool:
    """A fresh code for the session's challenge (resets the guesses), at most 3 times."""
    challenge = otp_challenge_get(request=request)
    if challenge is None or challenge.get("resends", 0) >= OTP_MAX_RESENDS:
        return False
    user = User.objects.filter(pk=challenge["user_id"], is_active=True).first()
    if user is None:
        return False
    challenge["id"] = otp_challenge_issue(request=request, user=user)
    challenge["resends"] = challenge.get("resends", 0) + 1
    request.session[SESSION_KEY] = challenge
    audit_record(event="login.otp_sent", customer=user, request=request, detail={"resend": True})
    return True


def otp_challenge_verify(*, request: HttpRequest, code: str) -> VerifyResult:
    """Check a guess; on success log the user in with a new session key."""
    challenge = otp_challenge_get(request=request)
    if challenge is None:
        return VerifyResult(outcome=VerifyOutcome.EXPIRED)
    challenge_id = challenge["id"]
    stored = cache.get(_cache_key(challenge_id))
    if not stored or stored.get("user_id") != challenge.get("user_id"):
        request.session.pop(SESSION_KEY, None)
        return VerifyResult(outcome=VerifyOutcome.EXPIRED)
    try:
        attempts = cache.incr(_attempts_key(challenge_id))
    except ValueError:  # counter evicted: count this guess as the last one allowed
        attempts = OTP_MAX_ATTEMPTS
    user = User.objects.filter(pk=challenge["user_id"], is_active=True).first()
    if attempts > OTP_MAX_ATTEMPTS or user is None:
        cache.delete(_cache_key(challenge_id))
        request.session.pop(SESSION_KEY, None)
        audit_record(event="login.otp_exhausted", customer=user, request=request)
        return VerifyResult(outcome=VerifyOutcome.EXHAUSTED)
    expected = stored["hmac"]
    matches = hmac.compare_digest(_code_hmac(challenge_id=challenge_id, code=code), expected)
    # delete() is True for exactly one caller: two racing correct guesses log in once.
    if matches and cache.delete(_cache_key(challenge_id)):
        request.session.pop(SESSION_KEY, None)
        # login() flushes a session that belonged to another account; what this browser was
        # doing (the binding to an open connect tab) is carried over, as the password path does.
        kept = {
            key: request.session[key] for key in challenge.get("keep", []) if key in request.session
        }
        login(request, user, backend=_LOGIN_BACKEND)  # cycles the session key
        request.session.update(kept)
        audit_record(event="login.otp_verified", customer=user, request=request)
        return VerifyResult(outcome=VerifyOutcome.OK, next_url=challenge["next"])
    audit_record(
        event="login.otp_failed", customer=user, request=request, detail={"attempt": attempts}
    )
    # Wrong codes count against the account's hourly ceiling like wrong passwords: someone who
    # has the password cannot buy 5 fresh guesses per login forever.
    lockout.login_failure_record(ip=client_ip(request), email=user.email)
    if attempts >= OTP_MAX_ATTEMPTS:
        cache.delete(_cache_key(challenge_id))
        request.session.pop(SESSION_KEY, None)
        return VerifyResult(outcome=VerifyOutcome.EXHAUSTED)
    return VerifyResult(outcome=VerifyOutcome.WRONG, attempts_left=OTP_MAX_ATTEMPTS - attempts)


def wrong_code_message(*, attempts_left: int) -> str:
    return ngettext(
        "That code is not right. You have %(n)s more try.",
        "That code is not right. You have %(n)s more tries.",
        attempts_left,
    ) % {"n": attempts_left}


def login_failed_message() -> str:
    """One message for unknown email, wrong password and locked account (no enumeration)."""
    return _(
        "That email and password do not match an account, or the account is temporarily "
        "locked. Check them and try again."
    )
