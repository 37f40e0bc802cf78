"""The authorization endpoint's logic (RFC 6749 §4.1, PKCE RFC 7636, RFC 9700), without pages.

The view at `/oauth/authorize` (connect-flow pages: login, supply point, consent) calls:

1. `authorization_request_validate(request)` → `AuthorizationRequest`, or raises
   `AuthorizationRequestInvalid`. When `error.redirectable` is false (unknown client, unregistered
   or missing redirect URI) show an error page and never redirect; otherwise answer with
   `authorization_error_response(error=error)`, a redirect to the *registered* URI.
2. after consent, `authorization_code_issue(...)` when allowed, then a redirect to
   `authorization_response_uri(...)` (with the code, or `access_denied`).

Threat: an authorization endpoint is an open redirector and a code-injection target. We redirect
only to a URI registered for the client (exact string match), require PKCE S256 (no `plain`),
issue single-use codes stored as SHA-256 digests, and add `iss` (RFC 9207) against mix-up.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import Contract, Direction, Premise, User
from provider_auth.audit.services import audit_record
from provider_auth.consent.lifecycle import grant_terms
from provider_auth.oauth import tokens
from provider_auth.oauth.models import AuthorizationCode, Grant, GrantStatus, OAuthClient
from provider_auth.oauth.services import client_refresh_absolute

# RFC 7636 §4.2: an S256 challenge is BASE64URL(SHA256(verifier)) without padding, i.e.
# exactly 43 characters of the base64url alphabet (the 43–128 of §4.1 is the verifier's).
_S256_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
MAX_STATE_LENGTH = 1024
# RFC 9700 / RFC 6749 §4.1.2: codes are short-lived; never more than 10 minutes here.
MAX_CODE_SECONDS = 600


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request: every field is safe to use as is."""

    client: OAuthClient
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    code_challenge_method: str


class AuthorizationRequestInvalid(Exception):  # noqa: N818 (the name the connect flow imports)
    """An authorization request we refuse.

    `redirectable` is False when we cannot trust where to send the browser (unknown client,
    unregistered redirect URI): show an error page. Otherwise `redirect_uri` is the registered
    URI and `authorization_error_response` sends `error` (+ `state`) there.
    """

    def __init__(
        self,
        message: str,
        *,
        redirectable: bool,
        error: str,
        redirect_uri: str = "",
        state: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.redirectable = redirectable and bool(redirect_uri)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


def issuer() -> str:
    """Our issuer identifier (RFC 8414 §2): PUBLIC_BASE_URL without a trailing slash."""
    return settings.PUBLIC_BASE_URL


def redirect_uri_with_params(redirect_uri: str, params: dict[str, str]) -> str:
    """`redirect_uri` with `params` appended to its query, keeping the query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(location: str) -> HttpResponse:
    # A plain 302 with Location: registered URIs may use an app's custom scheme, which
    # HttpResponseRedirect refuses. The URI is one the operator registered, never the browser's.
    response = HttpResponse(status=302)
    response["Location"] = location
    response["Cache-Control"] = "no-store"
    return response


def authorization_request_validate(request: HttpRequest) -> AuthorizationRequest:
    """Validate the query of an authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3)."""
    params = request.GET

    # 1. Who is asking, and where to: errors here must never redirect (RFC 6749 §4.1.2.1).
    for name in ("client_id", "redirect_uri"):
        if len(params.getlist(name)) > 1:
            raise AuthorizationRequestInvalid(
                f"Repeated parameter: {name}.", redirectable=False, error="invalid_request"
            )
    client_id = params.get("client_id", "")
    if not client_id:
        raise AuthorizationRequestInvalid(
            "Missing client_id.", redirectable=False, error="invalid_request"
        )
    client = OAuthClient.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        raise AuthorizationRequestInvalid(
            "Unknown client.", redirectable=False, error="invalid_client"
        )
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        # Required here (stricter than RFC 6749 §3.1.2.3): the token request must then repeat
        # it, and the code is bound to exactly that string (RFC 6749 §4.1.3).
        raise AuthorizationRequestInvalid(
            "Missing redirect_uri.", redirectable=False, error="invalid_request"
        )
    if not client.check_redirect_uri(redirect_uri):
        raise AuthorizationRequestInvalid(
            "The redirect_uri is not registered for this client.",
            redirectable=False,
            error="invalid_request",
        )

    # 2. From here on errors go back to the registered URI, with the state.
    state = params.get("state", "")

    def refuse(message: str, error: str = "invalid_request") -> AuthorizationRequestInvalid:
        return AuthorizationRequestInvalid(
            message,
            redirectable=True,
            error=error,
            redirect_uri=redirect_uri,
            state=state[:MAX_STATE_LENGTH],
        )

    for name in _SINGLE_VALUED:
        if len(params.getlist(name)) > 1:
            raise refuse(f"Repeated parameter: {name}.")
    if len(state) > MAX_STATE_LENGTH:
        raise refuse("The state parameter is too long.")

    response_type = params.get("response_type", "")
    if not response_type:
        raise refuse("Missing response_type.")  # RFC 6749 §4.1.2.1: invalid_request
    if response_type != "code":
        # No implicit grant (RFC 9700 §2.1.2), no hybrid flows.
        raise refuse("Only response_type=code is supported.", "unsupported_response_type")
    if not client.check_grant_type(OAuthClient.GRANT_AUTHORIZATION_CODE):
        raise refuse("This client may not use the authorization code grant.", "unauthorized_client")

    # Scope omitted: the client's registered scopes (RFC 6749 §3.3 lets the server default).
    requested = set(params.get("scope", "").split()) or set(client.scopes)
    if not requested or not requested <= set(client.scopes):
        raise refuse("The requested scope is not allowed for this client.", "invalid_scope")
    scope = " ".join(sorted(requested))

    code_challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if code_challenge or method or settings.OAUTH_PKCE_REQUIRED:
        if not code_challenge:
            raise refuse("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if method != "S256":
            # RFC 7636 §4.3 defaults to plain when absent; we accept S256 only (RFC 9700 §2.1.1).
            raise refuse("Only code_challenge_method=S256 is supported.")
        if not _S256_CODE_CHALLENGE.fullmatch(code_challenge):
            raise refuse("The code_challenge is malformed: S256 gives 43 base64url characters.")

    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256" if code_challenge else "",
    )


def authorization_error_response(*, error: AuthorizationRequestInvalid) -> HttpResponse:
    """Redirect a redirectable error to the client's registered URI (RFC 6749 §4.1.2.1)."""
    if not error.redirectable:
        raise ValueError("This error must be shown on a page, never redirected.")
    return _redirect(
        redirect_uri_with_params(
            error.redirect_uri,
            {
                "error": error.error,
                "error_description": error.message,
                "state": error.state,
                "iss": issuer(),
            },
        )
    )


def _premise_directions(premise: Premise) -> list[str]:
    """Directions the premise has a current or future contract in; IMPORT when none."""
    now = timezone.now()
    found = set(
        Contract.objects.filter(premise=premise)
        .exclude(end_at__lte=now)
        .values_list("direction", flat=True)
    )
    return sorted(found) or [Direction.IMPORT]


@transaction.atomic
def authorization_code_issue(
    *,
    authorization_request: AuthorizationRequest,
    customer: User,
    premise: Premise,
    directions: list[str] | None = None,
    display_name: str = "",
) -> tuple[Grant, str]:
    """A pending grant and its single-use code (plaintext returned once, digest stored).

    The grant stays PENDING — its tokens unusable — until the code is redeemed at the token
    endpoint, which activates it. An unredeemed grant expires with its code.
    """
    if premise.customer_id != customer.pk:
        raise PermissionError("The premise does not belong to this customer.")
    client = authorization_request.client
    now = timezone.now()
    code_seconds = min(settings.OAUTH_CODE_SECONDS, MAX_CODE_SECONDS)
    grant = Grant.objects.create(
        customer=customer,
        premise=premise,
        client=client,
        scope=authorization_request.scope,
        directions=sorted(set(directions or _premise_directions(premise))),
        status=GrantStatus.PENDING,
        created_at=now,
        pending_expires_at=now + dt.timedelta(seconds=code_seconds),
        absolute_expires_at=now + client_refresh_absolute(client),
        display_name=display_name or client.name,
        **grant_terms(client, now=now),
    )
    code = tokens.secret_generate(tokens.AUTHORIZATION_CODE_PREFIX)
    AuthorizationCode.objects.create(
        grant=grant,
        code_hash=tokens.secret_hash(code),
        redirect_uri=authorization_request.redirect_uri,
        scope=authorization_request.scope,
        code_challenge=authorization_request.code_challenge,
        code_challenge_method=authorization_request.code_challenge_method,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=code_seconds),
    )
    audit_record(
        event="oauth.code_issued",
        customer=customer,
        detail={"grant_id": grant.pk, "client_id": client.client_id, "premise": premise.reference},
    )
    return grant, code


def authorization_response_uri(
    *, authorization_request: AuthorizationRequest, code: str | None
) -> str:
    """Where the customer's decision sends the browser: the registered redirect URI with the
    code (RFC 6749 §4.1.2) — or `access_denied` when `code` is None (§4.1.2.1) — the client's
    state, and our issuer (RFC 9207)."""
    if code is not None:
        params = {"code": code, "state": authorization_request.state, "iss": issuer()}
    else:
        params = {
            "error": "access_denied",
            "error_description": "The customer did not allow access.",
            "state": authorization_request.state,
            "iss": issuer(),
        }
    return redirect_uri_with_params(authorization_request.redirect_uri, params)
