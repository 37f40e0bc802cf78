"""Writes on grants and tokens. Shared by the connect flow and the OAuth endpoints."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Premise, User
from provider_auth.audit.services import audit_record
from provider_auth.consent import emails as consent_emails
from provider_auth.consent.lifecycle import grant_terms
from provider_auth.oauth import sql, tokens
from provider_auth.oauth.models import (
    AccessToken,
    AuthorizationCode,
    Grant,
    GrantEndReason,
    GrantStatus,
    OAuthClient,
    RefreshToken,
)
from provider_auth.oauth.scopes import SCOPES_SUPPORTED, TARIFF_READ


@dataclass(frozen=True)
class IssuedTokens:
    """Plaintext values exist only here, in memory, on their way to the client."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    access: AccessToken
    refresh: RefreshToken


def client_access_token_seconds(client: OAuthClient) -> int:
    return client.access_token_seconds or settings.OAUTH_ACCESS_TOKEN_SECONDS


def client_refresh_idle(client: OAuthClient) -> dt.timedelta:
    return dt.timedelta(days=client.refresh_idle_days or settings.OAUTH_REFRESH_IDLE_DAYS)


def client_refresh_absolute(client: OAuthClient) -> dt.timedelta:
    return dt.timedelta(days=client.refresh_absolute_days or settings.OAUTH_REFRESH_ABSOLUTE_DAYS)


def tokens_issue(*, grant: Grant, now: dt.datetime | None = None) -> IssuedTokens:
    """A new access + refresh token pair for a grant (no checks: callers decide)."""
    now = now or timezone.now()
    client = grant.client
    lifetime = client_access_token_seconds(client)
    access_value = tokens.secret_generate(tokens.ACCESS_TOKEN_PREFIX)
    refresh_value = tokens.secret_generate(tokens.REFRESH_TOKEN_PREFIX)
    access = AccessToken(
        grant=grant,
        token_hash=tokens.secret_hash(access_value),
        scope=grant.scope,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=lifetime),
    )
    sql.row_insert(access)
    refresh_expires = now + client_refresh_idle(client)
    if grant.absolute_expires_at:
        refresh_expires = min(refresh_expires, grant.absolute_expires_at)
    refresh = RefreshToken(
        grant=grant,
        token_hash=tokens.secret_hash(refresh_value),
        access_token=access,
        scope=grant.scope,
        created_at=now,
        expires_at=refresh_expires,
    )
    sql.row_insert(refresh)
    return IssuedTokens(
        access_token=access_value,
        refresh_token=refresh_value,
        expires_in=lifetime,
        scope=grant.scope,
        access=access,
        refresh=refresh,
    )


@transaction.atomic(savepoint=False)  # the token endpoint's transaction holds the row lock
def tokens_rotate(*, refresh_token: RefreshToken, now: dt.datetime | None = None) -> IssuedTokens:
    """Exchange `refresh_token` (loaded with its grant and the grant's client): a new pair for
    its grant, the old token marked used (so presenting it again is reuse) unless it already
    was (a grace-period exchange keeps its first use), and the grant marked as in use.

    No checks: the refresh grant decided. Its two rows and two stamps are hand-written
    statements (`provider_auth.oauth.sql`): `save()` and `update()` spent more CPU preparing
    them than PostgreSQL spent running them.
    """
    now = now or timezone.now()
    issued = tokens_issue(grant=refresh_token.grant, now=now)
    # The old token keeps its first use (a grace-period exchange), and FlatPeak is evidently
    # still using the grant: record it (the token path is not budgeted, unlike the tariff API).
    sql.refresh_token_mark_used(refresh_token=refresh_token, now=now)
    if refresh_token.used_at is None:
        refresh_token.used_at = now
    refresh_token.grant.last_used_at = now
    return issued


@transaction.atomic
def grant_issue(
    *,
    customer: User,
    premise: Premise,
    client: OAuthClient,
    directions: list[str],
    scope: str = " ".join(sorted(SCOPES_SUPPORTED)),
    pending: bool = False,
    display_name: str = "",
) -> tuple[Grant, IssuedTokens]:
    """Create a grant with its first token pair.

    `pending=True` (connect flow): the tokens exist but do not work until `grant_activate`,
    which runs once FlatPeak has acknowledged the submission. Unacknowledged pending grants
    expire after PENDING_GRANT_TTL_MINUTES.
    """
    now = timezone.now()
    grant = Grant.objects.create(
        customer=customer,
        premise=premise,
        client=client,
        scope=scope,
        directions=sorted(set(directions)),
        status=GrantStatus.PENDING if pending else GrantStatus.ACTIVE,
        created_at=now,
        activated_at=None if pending else now,
        pending_expires_at=(
            now + dt.timedelta(minutes=settings.PENDING_GRANT_TTL_MINUTES) if pending else None
        ),
        absolute_expires_at=now + client_refresh_absolute(client),
        display_name=display_name or client.name,
        **grant_terms(client, now=now),
    )
    issued = tokens_issue(grant=grant, now=now)
    audit_record(
        event="grant.issued",
        customer=customer,
        detail={
            "grant_id": grant.pk,
            "client_id": client.client_id,
            "premise": premise.reference,
            "pending": pending,
            "scope": grant.scope,
            "purpose": grant.purpose,
        },
    )
    if not pending:
        consent_emails.grant_started_mail_on_commit(grant=grant)
    return grant, issued


@transaction.atomic
def grant_activate(*, grant: Grant) -> Grant:
    """Make a pending grant's tokens usable (FlatPeak acknowledged the submission)."""
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.status == GrantStatus.PENDING:
        grant.status = GrantStatus.ACTIVE
        grant.activated_at = timezone.now()
        grant.pending_expires_at = None
        grant.save(update_fields=["status", "activated_at", "pending_expires_at"])
        audit_record(
            event="grant.activated",
            customer=grant.customer,
            detail={"grant_id": grant.pk, "client_id": grant.client.client_id},
        )
        consent_emails.grant_started_mail_on_commit(grant=grant)
    return grant


@transaction.atomic
def grant_revoke(
    *,
    grant: Grant,
    reason: str,
    actor: User | None = None,
    end_reason: str = GrantEndReason.REVOKED,
) -> Grant:
    """End a grant and every token hanging off it, at once. Idempotent.

    Every end — revocation by anyone, expiry, the supply ending — leaves the same state
    (REVOKED, `revoked_at`, `end_reason`) and one `grant.revoked` audit event; `reason` says
    who or what in more detail (`customer`, `admin_revoked`, …).
    """
    now = timezone.now()
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != GrantStatus.REVOKED:
        grant.status = GrantStatus.REVOKED
        grant.revoked_at = now
        grant.revoked_reason = reason[:64]
        grant.end_reason = end_reason
        grant.save(update_fields=["status", "revoked_at", "revoked_reason", "end_reason"])
        audit_record(
            event="grant.revoked",
            customer=grant.customer,
            actor=actor,
            detail={
                "grant_id": grant.pk,
                "reason": reason,
                "end_reason": end_reason,
                "client_id": grant.client.client_id,
            },
        )
        if end_reason != GrantEndReason.REVOKED:
            # The customer did not choose this end: tell them.
            consent_emails.grant_ended_mail_on_commit(grant=grant)
    AccessToken.objects.filter(grant=grant, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(grant=grant, revoked_at__isnull=True).update(revoked_at=now)
    return grant


# --- Clients and housekeeping ----------------------------------------------------------------
SUPPORTED_GRANT_TYPES = (OAuthClient.GRANT_AUTHORIZATION_CODE, OAuthClient.GRANT_REFRESH_TOKEN)
MIN_CLIENT_SECRET_LENGTH = 32
# RFC 3986 unreserved characters: what form-urlencoding leaves unchanged, so a client id or
# secret made of them reads the same whether or not a client encodes it inside HTTP Basic.
_URL_SAFE = re.compile(r"[A-Za-z0-9\-._~]+")
# Rotated refresh tokens are kept this long after use so that a replay is still recognised
# (and revokes the grant); revoked credentials this long for investigation.
ROTATED_REFRESH_RETENTION = dt.timedelta(days=14)
REVOKED_RETENTION = dt.timedelta(days=14)
EXPIRED_CODE_RETENTION = dt.timedelta(days=1)


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered, or None (absolute, no fragment, https except loopback)."""
    parts = urlsplit(uri)
    if not parts.scheme or not (parts.netloc or parts.path):
        return "must be an absolute URI"
    if parts.fragment:
        return "must not contain a fragment (RFC 6749 §3.1.2)"
    if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        return "must use https (http only for loopback)"
    if parts.scheme in {"javascript", "data", "file"}:
        return f"scheme {parts.scheme!r} is not allowed"
    return None


@transaction.atomic
def client_create(
    *,
    name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uris: list[str] | None = None,
    grant_types: list[str] | None = None,
    scopes: list[str] | None = None,
) -> tuple[OAuthClient, str]:
    """Register a confidential client; returns it and its plaintext secret (shown once).

    Raises ValueError with a readable message on invalid input.
    """
    client_id = client_id or f"client_{secrets.token_hex(8)}"
    if ":" in client_id:
        # RFC 7617 §2: the user-id of Basic credentials cannot contain a colon.
        raise ValueError("A client_id cannot contain ':' (HTTP Basic splits at the first one).")
    if not _URL_SAFE.fullmatch(client_id):
        raise ValueError(
            "A client_id may only contain letters, digits and - . _ ~ "
            "(RFC 6749 §2.3.1 form-urlencodes it inside HTTP Basic; many clients do not)."
        )
    if OAuthClient.objects.filter(client_id=client_id).exists():
        raise ValueError(f"A client with client_id {client_id!r} already exists.")
    if client_secret is not None and len(client_secret) < MIN_CLIENT_SECRET_LENGTH:
        raise ValueError(
            f"A client secret needs at least {MIN_CLIENT_SECRET_LENGTH} characters "
            "(better: let us generate one)."
        )
    if client_secret is not None and not _URL_SAFE.fullmatch(client_secret):
        raise ValueError(
            "A client secret may only contain letters, digits and - . _ ~ "
            "(RFC 6749 §2.3.1 form-urlencodes it inside HTTP Basic; many clients do not, "
            "and '+', '%' or ':' would then not match)."
        )
    grant_types = list(dict.fromkeys(grant_types or SUPPORTED_GRANT_TYPES))
    unknown = [g for g in grant_types if g not in SUPPORTED_GRANT_TYPES]
    if unknown:
        raise ValueError(f"Unsupported grant type(s): {', '.join(unknown)}.")
    # Without a choice a new partner gets the tariff only; staff add the other data types.
    scopes = list(dict.fromkeys(scopes or (TARIFF_READ,)))
    unknown = [s for s in scopes if s not in SCOPES_SUPPORTED]
    if unknown:
        raise ValueError(f"Unsupported scope(s): {', '.join(unknown)}.")
    redirect_uris = list(dict.fromkeys(redirect_uris or []))
    for uri in redirect_uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ValueError(f"Redirect URI {uri!r} {problem}.")
    if OAuthClient.GRANT_AUTHORIZATION_CODE in grant_types and not redirect_uris:
        raise ValueError("The authorization_code grant needs at least one redirect URI.")
    secret = client_secret or tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
    client = OAuthClient.objects.create(
        client_id=client_id,
        client_secret_hash=tokens.secret_hash(secret),
        name=name,
        redirect_uris=redirect_uris,
        grant_types=grant_types,
        scopes=scopes,
    )
    audit_record(event="oauth.client_created", detail={"client_id": client_id})
    return client, secret


@transaction.atomic
def client_secret_rotate(*, client: OAuthClient, actor: User | None = None) -> str:
    """A new secret for `client` (the old one stops working at once); plaintext returned once."""
    secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
    client.client_secret_hash = tokens.secret_hash(secret)
    client.save(update_fields=["client_secret_hash"])
    audit_record(
        event="oauth.client_secret_rotated", actor=actor, detail={"client_id": client.client_id}
    )
    return secret


@transaction.atomic
def tokens_clear(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete credentials that can no longer work and are past their retention; counts by kind.

    Access tokens go once expired; refresh tokens once expired, or rotated/revoked longer ago
    than the retention; authorization codes a day after expiry. Grants are kept (history).
    """
    now = now or timezone.now()
    refresh_deleted, _ = RefreshToken.objects.filter(
        Q(expires_at__lt=now)
        | Q(used_at__lt=now - ROTATED_REFRESH_RETENTION)
        | Q(revoked_at__lt=now - REVOKED_RETENTION)
    ).delete()
    access_deleted, _ = AccessToken.objects.filter(
        Q(expires_at__lt=now) | Q(revoked_at__lt=now - REVOKED_RETENTION)
    ).delete()
    codes_deleted, _ = AuthorizationCode.objects.filter(
        expires_at__lt=now - EXPIRED_CODE_RETENTION
    ).delete()
    return {
        "access_tokens": access_deleted,
        "refresh_tokens": refresh_deleted,
        "authorization_codes": codes_deleted,
    }
