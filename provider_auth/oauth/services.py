"""Writes on grants and tokens. Shared by the connect flow and the OAuth endpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Premise, User
from provider_auth.audit.services import audit_record
from provider_auth.oauth import tokens
from provider_auth.oauth.models import (
    AccessToken,
    Grant,
    GrantStatus,
    OAuthClient,
    RefreshToken,
)


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
    access = AccessToken.objects.create(
        grant=grant,
        token_hash=tokens.secret_hash(access_value),
        scope=grant.scope,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=lifetime),
    )
    refresh_expires = now + client_refresh_idle(client)
    if grant.absolute_expires_at:
        refresh_expires = min(refresh_expires, grant.absolute_expires_at)
    refresh = RefreshToken.objects.create(
        grant=grant,
        token_hash=tokens.secret_hash(refresh_value),
        access_token=access,
        scope=grant.scope,
        created_at=now,
        expires_at=refresh_expires,
    )
    return IssuedTokens(
        access_token=access_value,
        refresh_token=refresh_value,
        expires_in=lifetime,
        scope=grant.scope,
        access=access,
        refresh=refresh,
    )


@transaction.atomic
def grant_issue(
    *,
    customer: User,
    premise: Premise,
    client: OAuthClient,
    directions: list[str],
    scope: str = "tariff:read",
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
        },
    )
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
    return grant


@transaction.atomic
def grant_revoke(*, grant: Grant, reason: str, actor: User | None = None) -> Grant:
    """Revoke a grant and every token hanging off it, at once. Idempotent."""
    now = timezone.now()
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != GrantStatus.REVOKED:
        grant.status = GrantStatus.REVOKED
        grant.revoked_at = now
        grant.revoked_reason = reason[:64]
        grant.save(update_fields=["status", "revoked_at", "revoked_reason"])
        audit_record(
            event="grant.revoked",
            customer=grant.customer,
            actor=actor,
            detail={"grant_id": grant.pk, "reason": reason, "client_id": grant.client.client_id},
        )
    AccessToken.objects.filter(grant=grant, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(grant=grant, revoked_at__isnull=True).update(revoked_at=now)
    return grant
