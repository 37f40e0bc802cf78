"""The federated login: start at the identity provider, come back, link, log in, log out."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from provider_auth.audit.services import audit_record
from provider_auth.oidc import selectors
from provider_auth.oidc.conf import OidcSettings
from provider_auth.oidc.errors import OidcInvalid, OidcUnavailable
from provider_auth.oidc.models import OidcBrowserSession, OidcIdentity
from provider_auth.oidc.provider import oidc_metadata_get
from provider_auth.oidc.tokens import id_token_validate, logout_token_validate

logger = logging.getLogger(__name__)

PENDING_KEY = "oidc:pending"
LOGIN_KEY = "oidc:login"  # this browser session's federated identity, for RP-initiated logout
MAX_PENDING = 5  # a few tabs at once; older attempts are forgotten
PENDING_LIFETIME_SECONDS = 900


def oidc_redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("oidc:callback")


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _client(*, config: OidcSettings, token_endpoint: str = "") -> OAuth2Session:
    if config.private_key_file:
        key = Path(config.private_key_file).read_text()
        client = OAuth2Session(
            config.client_id,
            key,
            scope=config.scopes,
            redirect_uri=oidc_redirect_uri(),
            token_endpoint_auth_method="private_key_jwt",  # noqa: S106 (a method name)
            code_challenge_method="S256",
        )
        headers = {"kid": config.private_key_id} if config.private_key_id else None
        client.register_client_auth_method(PrivateKeyJWT(token_endpoint, headers=headers))
        return client
    return OAuth2Session(
        config.client_id,
        config.client_secret,
        scope=config.scopes,
        redirect_uri=oidc_redirect_uri(),
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        code_challenge_method="S256",
    )


def oidc_login_start(
    *, request: HttpRequest, config: OidcSettings, return_to: dict[str, str]
) -> str:
    """Remember a pending login in this browser's session; the identity provider's URL.

    `state` ties the callback to this browser (login CSRF), `nonce` the ID token to this
    request (token substitution), the PKCE verifier the code to this client (code injection).
    """
    metadata = oidc_metadata_get(config=config)  # OidcUnavailable → the caller's retry page
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    extra: dict[str, Any] = {"nonce": nonce}
    if config.max_age is not None:
        extra["max_age"] = config.max_age
    if config.acr_values:
        extra["acr_values"] = config.acr_values
    url, _ = _client(config=config).create_authorization_url(
        metadata["authorization_endpoint"], state=state, code_verifier=verifier, **extra
    )
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
    pending[_state_digest(state)] = {
        "nonce": nonce,
        "verifier": verifier,
        "issuer": config.issuer,
        "return_to": return_to,
        "started": int(time.time()),
    }
    newest = sorted(pending.items(), key=lambda item: item[1]["started"])[-MAX_PENDING:]
    request.session[PENDING_KEY] = dict(newest)
    return str(url)


def oidc_pending_take(*, request: HttpRequest, state: str) -> dict[str, Any] | None:
    """The pending login for this `state`, removed (single use), or None if unknown/expired."""
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
    entry = pending.pop(_state_digest(state), None) if state else None
    request.session[PENDING_KEY] = pending
    if not isinstance(entry, dict):
        return None
    if entry["started"] + PENDING_LIFETIME_SECONDS < time.time():
        return None
    return entry


def oidc_code_exchange(
    *, config: OidcSettings, code: str, verifier: str, nonce: str
) -> dict[str, Any]:
    """Code → tokens at the token endpoint (bounded wait) → the validated ID token's claims."""
    metadata = oidc_metadata_get(config=config)
    client = _client(config=config, token_endpoint=metadata["token_endpoint"])
    try:
        token = client.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            timeout=config.timeout,
        )
    except requests.RequestException as error:
        logger.warning("OpenID provider token endpoint unreachable: %s", type(error).__name__)
        raise OidcUnavailable("token_unreachable") from error
    except OAuthError as error:
        raise OidcInvalid(f"token_error:{error.error}") from error
    except ValueError as error:  # a non-JSON answer: an outage page, a proxy's error
        raise OidcUnavailable("token_invalid_response") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcInvalid("no_id_token")
    access_token = token.get("access_token")
    return id_token_validate(
        id_token=id_token,
        config=config,
        nonce=nonce,
        access_token=access_token if isinstance(access_token, str) else None,
    )


@dataclass
class FederatedLogin:
    customer: Any
    identity: OidcIdentity | None
    claims: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def oidc_identity_resolve(
    *, request: HttpRequest, config: OidcSettings, claims: dict[str, Any]
) -> FederatedLogin:
    """The customer for these claims: the existing link, else a new one through the claim."""
    issuer, subject = config.issuer, claims["sub"]
    identity = selectors.oidc_identity_get(issuer=issuer, subject=subject)
    if identity is not None:
        if not identity.customer.is_active:
            return FederatedLogin(customer=None, identity=identity, claims=claims)
        return FederatedLogin(customer=identity.customer, identity=identity, claims=claims)
    customer = selectors.oidc_customer_find_by_claims(claims=claims, config=config)
    if customer is None:
        return FederatedLogin(customer=None, identity=None, claims=claims)
    try:
        with transaction.atomic():
            identity = OidcIdentity.objects.create(
                issuer=issuer, subject=subject, customer=customer
            )
    except IntegrityError:  # the same identity's second tab won the race: use its link
        identity = OidcIdentity.objects.select_related("customer").get(
            issuer=issuer, subject=subject
        )
        return FederatedLogin(customer=identity.customer, identity=identity, claims=claims)
    audit_record(
        event="oidc.link_created",
        customer=customer,
        request=request,
        detail={"issuer": issuer, "sub": subject, "claim": config.customer_claim},
    )
    return FederatedLogin(customer=customer, identity=identity, claims=claims)


def oidc_login_record(
    *, request: HttpRequest, identity: OidcIdentity, claims: dict[str, Any]
) -> None:
    """After Django's login(): audit it and remember the session for back-channel logout."""
    sid = claims.get("sid") if isinstance(claims.get("sid"), str) else ""
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    if request.session.session_key is None:
        request.session.save()
    OidcBrowserSession.objects.create(
        identity=identity, sid=sid or "", session_key=request.session.session_key or ""
    )
    request.session[LOGIN_KEY] = {"issuer": identity.issuer, "sub": identity.subject}
    audit_record(
        event="oidc.login",
        customer=identity.customer,
        request=request,
        detail={"issuer": identity.issuer, "sub": identity.subject, "sid": sid or ""},
    )


def oidc_login_rejected(
    *, request: HttpRequest, reason: str, issuer: str, subject: str = ""
) -> None:
    """A callback we refused: an audit event and a log line an operator can act on."""
    logger.warning(
        "Federated login refused (%s) for issuer %s; see docs/security.md, "
        "'Use your own identity provider' in the README for the settings to check",
        reason,
        issuer,
    )
    audit_record(
        event="oidc.login_rejected",
        request=request,
        detail={"issuer": issuer, "sub": subject, "reason": reason[:120]},
    )


def oidc_browser_sessions_purge(*, now: dt.datetime) -> int:
    """Forget browser sessions past their absolute lifetime (SESSION_COOKIE_AGE); how many.

    Such a session has ended on its own; only its row for back-channel logout remains.
    """
    cutoff = now - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted, _ = OidcBrowserSession.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def oidc_backchannel_logout(*, config: OidcSettings, logout_token: str) -> int:
    """Validate a logout token, end our browser sessions for that identity; how many ended.

    FlatPeak's grant stays: logging out of the provider's website is not a withdrawal of the
    customer's consent to share their tariff (that is done on the connected-apps page).
    """
    claims = logout_token_validate(logout_token=logout_token, config=config)
    sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
    rows = selectors.oidc_browser_sessions_for_logout(issuer=config.issuer, subject=sub, sid=sid)
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    customers = set()
    for row in rows:
        store_class(session_key=row.session_key).delete()
        customers.add(row.identity.customer_id)
    OidcBrowserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    identity = selectors.oidc_identity_get(issuer=config.issuer, subject=sub) if sub else None
    audit_record(
        event="oidc.backchannel_logout",
        customer=identity.customer if identity else None,
        detail={
            "issuer": config.issuer,
            "sub": sub or "",
            "sid": sid or "",
            "sessions": len(rows),
        },
    )
    return len(rows)
