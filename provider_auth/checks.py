"""System checks for dangerous configuration (ids provider_auth.W0xx).

Registered as deployment checks: `manage.py check --deploy --fail-level WARNING` runs in CI
with production settings and must stay clean. Each warning names the setting and the fix.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

_DEV_SECRET_KEY_PREFIX = "insecure-development-key"  # noqa: S105 (detecting it, not using it)
MIN_SECRET_KEY_LENGTH = 50


@register(Tags.security, deploy=True)
def check_flatpeak_configuration(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    if not settings.FLATPEAK_ACCOUNT_ID or not settings.FLATPEAK_API_KEY:
        warnings.append(
            Warning(
                "FLATPEAK_ACCOUNT_ID / FLATPEAK_API_KEY are not set: the connect flow cannot "
                "fetch session contexts.",
                hint="Set the credentials FlatPeak issued at onboarding.",
                id="provider_auth.W001",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def check_sandbox_in_production(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.SANDBOX_ENABLED and not settings.DEBUG:
        return [
            Warning(
                "SANDBOX_ENABLED is on with DEBUG off: /sandbox/ plays FlatPeak and a device "
                "maker, with test customers, on a server that looks like production.",
                hint="Only on a staging server; set SANDBOX_ENABLED=false in production.",
                id="provider_auth.W002",
            )
        ]
    return []


def _plain_http_hosts() -> list[str]:
    bad = []
    for host in settings.FLATPEAK_REDIRECT_HOSTS:
        value = host.strip().lower()
        if not value or value.startswith("http:") or "*" in value or "/" in value:
            bad.append(host)
        elif not settings.DEBUG and value.split(":")[0] in {"localhost", "127.0.0.1", "::1"}:
            bad.append(host)
    return bad


@register(Tags.security, deploy=True)
def check_redirect_hosts(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    bad = _plain_http_hosts()
    if bad:
        warnings.append(
            Warning(
                f"FLATPEAK_REDIRECT_HOSTS has entries that are not plain public host names: {bad}.",
                hint="List host names (optionally host:port) only, e.g. connect.flatpeak.com; "
                "no scheme, no path, no wildcard, no loopback in production.",
                id="provider_auth.W003",
            )
        )
    if not settings.FLATPEAK_REDIRECT_HOSTS:
        warnings.append(
            Warning(
                "FLATPEAK_REDIRECT_HOSTS is empty: no customer can ever be sent back to FlatPeak.",
                hint="Set it to FlatPeak's connect host(s), e.g. connect.flatpeak.com.",
                id="provider_auth.W003",
            )
        )
    if not settings.DEBUG:
        for name in ("FLATPEAK_API_URL", "PUBLIC_BASE_URL"):
            if urlsplit(getattr(settings, name)).scheme != "https":
                warnings.append(
                    Warning(
                        f"{name} is not an https URL in production.",
                        hint="Credentials and tokens travel over it: use https://.",
                        id="provider_auth.W003",
                    )
                )
    return warnings


@register(Tags.security, deploy=True)
def check_pkce(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if not settings.OAUTH_PKCE_REQUIRED:
        return [
            Warning(
                "OAUTH_PKCE_REQUIRED is off: authorization codes can be injected or replayed "
                "by a client that skips PKCE (RFC 9700 2.1.1).",
                hint="Set OAUTH_PKCE_REQUIRED=true; FlatPeak's connect flow does not need it off.",
                id="provider_auth.W004",
            )
        ]
    return []


def _fernet_key_ok(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (binascii.Error, ValueError):
        return False


@register(Tags.security, deploy=True)
def check_secret_lengths(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    key = settings.SECRET_KEY
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < 5
        or key.startswith(_DEV_SECRET_KEY_PREFIX)
    ):
        warnings.append(
            Warning(
                "SECRET_KEY is short, repetitive or the development key; it signs sessions "
                "and one-time-code HMACs.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="provider_auth.W005",
            )
        )
    field_key = settings.FIELD_ENCRYPTION_KEY
    if field_key and not _fernet_key_ok(field_key):
        warnings.append(
            Warning(
                "FIELD_ENCRYPTION_KEY is not a 32-byte url-safe base64 (Fernet) key.",
                hint="python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="provider_auth.W005",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    if not settings.DEBUG and not settings.REDIS_URL:
        warnings.append(
            Warning(
                "REDIS_URL is not set: rate limits, login ceilings and one-time codes are "
                "counted per process, so each worker allows its own full budget.",
                hint="Point REDIS_URL at the Redis every instance shares.",
                id="provider_auth.W006",
            )
        )
    if not settings.DEBUG and not settings.RATE_LIMIT_ENABLED:
        warnings.append(
            Warning(
                "RATE_LIMIT_ENABLED is off in production: /oauth/* and the authentication URI "
                "have no request limits.",
                hint="Set RATE_LIMIT_ENABLED=true.",
                id="provider_auth.W007",
            )
        )
    return warnings


_CSRF_MIDDLEWARE = {
    "django.middleware.csrf.CsrfViewMiddleware",
    "provider_auth.security.csrf.FetchMetadataCsrfViewMiddleware",
}


@register(Tags.security, deploy=True)
def check_csrf_middleware(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    # Stands in for Django's security.W003, silenced because it knows only Django's own class.
    if _CSRF_MIDDLEWARE.isdisjoint(settings.MIDDLEWARE):
        return [
            Warning(
                "No CSRF middleware in MIDDLEWARE: every form (login, consent) is forgeable.",
                hint="Keep provider_auth.security.csrf.FetchMetadataCsrfViewMiddleware.",
                id="provider_auth.W008",
            )
        ]
    return []


def _email_codes_in_use() -> bool:
    """Whether any account asks for the emailed code; False when the database cannot say."""
    from accounts.models import User

    try:
        return User.objects.filter(requires_email_otp=True, is_active=True).exists()
    except (DatabaseError, RuntimeError):  # not migrated yet, or no database here
        return False


@register(Tags.security, deploy=True)
def check_one_time_code_mail(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from provider_auth.security.otp import otp_email_undelivered

    if not otp_email_undelivered():
        return []
    message = (
        f"EMAIL_URL gives {settings.EMAIL_BACKEND} with DEBUG off: emailed one-time codes "
        "reach no customer (they are not sent; the console backend would print them to the log)."
    )
    hint = "Set EMAIL_URL to your mail relay, e.g. smtp+tls://user:password@mail.example:587."
    if _email_codes_in_use():
        return [
            Error(
                message + " Some accounts require the code and cannot log in.",
                hint=hint,
                id="provider_auth.E009",
            )
        ]
    return [Warning(message, hint=hint, id="provider_auth.W009")]


_FAST_HASHERS = {
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
}


@register(Tags.security, deploy=True)
def check_password_hasher(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    first = settings.PASSWORD_HASHERS[0] if settings.PASSWORD_HASHERS else ""
    if not settings.DEBUG and first in _FAST_HASHERS:
        return [
            Warning(
                f"{first} hashes new passwords with DEBUG off: a database leak would give "
                "them away in seconds.",
                hint="Unset FAST_PASSWORD_HASHER (test servers and benchmarks only).",
                id="provider_auth.W010",
            )
        ]
    return []
