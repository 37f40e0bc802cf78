"""Customer authentication for every login page (connect flow, OAuth authorize, account site).

Threat: credential stuffing and account enumeration against a page that hands out long-lived
credentials. Every attempt goes through `customer_authenticate`, which delegates lockout per
(account, IP) to django-axes (shared DB counters), adds per-IP and per-account hourly ceilings
(shared cache), and answers unknown email, wrong password and locked account alike: the same
result for the caller and exactly one password hash computed on every path.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from accounts.models import User
from provider_auth.audit.services import audit_record
from provider_auth.security import lockout
from provider_auth.security.network import client_ip


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked_out: bool = False
    needs_otp: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.locked_out


def password_hash_dummy(password: str) -> None:
    """Spend the same work as checking a real password (the unknown-email path of ModelBackend)."""
    make_password(password)


def customer_authenticate(*, request: HttpRequest, email: str, password: str) -> LoginResult:
    """Check credentials. Does not log the user in: the caller does, after any second factor."""
    ip = client_ip(request)
    known = User.objects.filter(email__iexact=lockout.login_account_key(email)).first()
    if lockout.login_ceiling_reached(ip=ip, email=email):
        password_hash_dummy(password)
        # AxesMiddleware then answers with the same locked-out page as an axes lockout.
        request.axes_locked_out = True  # type: ignore[attr-defined]
        audit_record(
            event="login.locked_out", customer=known, request=request, detail={"by": "ceiling"}
        )
        return LoginResult(user=None, locked_out=True)
    user = authenticate(request, username=email, password=password)
    locked = bool(getattr(request, "axes_locked_out", False))
    if locked:
        # axes refused before any backend hashed the password: do that work anyway.
        password_hash_dummy(password)
        audit_record(
            event="login.locked_out", customer=known, request=request, detail={"by": "axes"}
        )
        return LoginResult(user=None, locked_out=True)
    if user is None or not isinstance(user, User):
        lockout.login_failure_record(ip=ip, email=email)
        audit_record(
            event="login.failed", customer=known, request=request, detail={"known": bool(known)}
        )
        return LoginResult(user=None)
    return LoginResult(user=user, needs_otp=user.requires_email_otp)
