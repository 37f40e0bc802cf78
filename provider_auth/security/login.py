"""Customer authentication for every login page (connect flow, OAuth authorize, account site).

Threat: credential stuffing and account enumeration against a page that hands out long-lived
credentials. Every attempt goes through `customer_authenticate`, which delegates lockout
counting to django-axes (shared DB counters) and answers unknown email, wrong password and
locked account alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.http import HttpRequest

from accounts.models import User


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked_out: bool = False
    needs_otp: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.locked_out


def customer_authenticate(*, request: HttpRequest, email: str, password: str) -> LoginResult:
    """Check credentials. Does not log the user in: the caller does, after any second factor."""
    user = authenticate(request, username=email, password=password)
    locked = bool(getattr(request, "axes_locked_out", False))
    if user is None or locked or not isinstance(user, User):
        return LoginResult(user=None, locked_out=locked)
    return LoginResult(user=user, needs_otp=user.requires_email_otp)
