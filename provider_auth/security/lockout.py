"""Login lockouts beyond django-axes, and what a locked-out customer sees.

Threat: credential stuffing spreads guesses over many accounts from one address, or over many
addresses against one account; axes only counts per (account, IP). Two more counters in the
shared cache close both: failures per IP across all accounts (LOGIN_IP_FAILURE_LIMIT per hour)
and failures per account whatever the IPs (LOGIN_ACCOUNT_FAILURE_LIMIT per hour, ASVS 2.2.1).
Both are keyed by the submitted email whether or not an account exists, so a lockout reveals
nothing about which emails are customers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from provider_auth.security.ratelimit import rate_limit_hit, rate_limit_peek

HOUR = 3600
_IP_SCOPE = "login_fail_ip"
_ACCOUNT_SCOPE = "login_fail_account"


def login_account_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def login_ceiling_reached(*, ip: str, email: str) -> bool:
    """True when this IP or this account has used up its hourly budget of failed logins."""
    ip_failures = rate_limit_peek(scope=_IP_SCOPE, key=ip, window=HOUR)
    account_failures = rate_limit_peek(
        scope=_ACCOUNT_SCOPE, key=login_account_key(email), window=HOUR
    )
    return (
        ip_failures >= settings.LOGIN_IP_FAILURE_LIMIT
        or account_failures >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    )


def login_failure_record(*, ip: str, email: str) -> None:
    """Count one failed login against the IP and against the (possibly unknown) account."""
    rate_limit_hit(scope=_IP_SCOPE, key=ip, limit=settings.LOGIN_IP_FAILURE_LIMIT, window=HOUR)
    rate_limit_hit(
        scope=_ACCOUNT_SCOPE,
        key=login_account_key(email),
        limit=settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
        window=HOUR,
    )


def _connect_cancel_url(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "connect" or "public_id" not in match.kwargs:
        return ""
    try:
        return reverse("connect:cancel", args=[match.kwargs["public_id"]])
    except NoReverseMatch:
        return ""


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Any = None,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    """The locked-out page (AXES_LOCKOUT_CALLABLE; also used for our own ceilings).

    It keeps the status of the login page's own failure answer (401 in the connect flow), so a
    lockout is not told apart by status; it says "too many attempts" openly because lockouts
    happen identically for unknown emails. Inside a connect flow it keeps the Cancel escape.
    """
    status = 401
    if original_response is not None and 400 <= original_response.status_code < 500:
        status = original_response.status_code
    response = TemplateResponse(
        request,
        "errors/locked_out.html",
        {
            "cancel_url": _connect_cancel_url(request),
            "lockout_minutes": int(settings.AXES_COOLOFF_TIME * 60),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    # Returned from AxesMiddleware, after the handler renders template responses: render now.
    return response.render()
