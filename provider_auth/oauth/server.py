"""The OAuth 2.0 authorization server, built on Authlib over our models.

Authlib drives the protocol (grant dispatch, PKCE verification, RFC 6749 §5.2 error bodies,
RFC 7009 / RFC 7662 endpoints); this module supplies storage and policy:

- client requests are read strictly (`client_request_refusal`: form bodies only, no URL
  parameters, no repeats, one client authentication method) and clients are authenticated here
  (`OAuthServer.authenticate_client`: Basic credentials form-urlencoded inside, one 401 for
  every failure);
- every secret is looked up by its SHA-256 digest (`tokens.secret_hash`, in `queries`), never
  stored in clear;
- refresh tokens rotate on every use. For `OAUTH_REFRESH_GRACE_SECONDS` (default 30) after a
  rotation, presenting the just-rotated token again is a *retry*, not an attack: several
  FlatPeak workers refreshing at once, or one that timed out and resent the request. It gets
  another new pair of the same grant, and nothing is revoked, so the winner's tokens keep
  working (Ory Hydra's refresh grace period). After the window, presenting a rotated token is
  *reuse* (RFC 9700 §4.14.2): the whole grant is revoked and the answer is `invalid_grant`.
  With the window set to 0, a refresh that merely lost a race (the token was unused when the
  request arrived, used by the time it held the row lock) gets `invalid_grant` without revoking;
- tokens of PENDING (not yet acknowledged by FlatPeak) and REVOKED grants never work;
- authorization codes are single-use; redeeming one twice revokes the grant and every token
  the first redemption produced (RFC 6749 §4.1.2).

The front door in front of these endpoints (rate limits, malformed credentials) is `front_door`;
token and client reads are `queries`; the tariff API's bearer check is `bearer`.

The views run each token request inside one transaction so `select_for_update` (PostgreSQL)
serialises competing refreshes of one token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import Any

from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from provider_auth.audit.services import audit_record
from provider_auth.consent.lifecycle import grant_end_reason
from provider_auth.oauth import tokens
from provider_auth.oauth.front_door import (
    CLIENT_AUTHENTICATION_FAILED,
    CLIENT_REALM,
    basic_credentials_decode,
    client_credentials_claimed,
    client_rate_limit_count,
)
from provider_auth.oauth.models import (
    AccessToken,
    AuthorizationCode,
    GrantStatus,
    OAuthClient,
    RefreshToken,
)
from provider_auth.oauth.queries import (
    access_token_lookup,
    client_active_get,
    refresh_token_lock,
    refresh_token_lookup,
)
from provider_auth.oauth.services import (
    IssuedTokens,
    grant_activate,
    grant_revoke,
    tokens_issue,
    tokens_rotate,
)
from provider_auth.ops.metrics import token_event_inc

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _token_response(issued: IssuedTokens, *, include_refresh_token: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    if include_refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


def _grant_usable(grant: Any, now: dt.datetime) -> bool:
    if grant.status != GrantStatus.ACTIVE:
        return False
    return grant.absolute_expires_at is None or grant.absolute_expires_at > now


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (RFC 9700 §2.1.1), compared in constant time."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {
        "S256": lambda verifier, challenge: hmac.compare_digest(
            create_s256_code_challenge(verifier), challenge
        )
    }

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        # Codes are only ever issued with S256 (see authorize.py); never fall back to plain.
        return "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        found = (
            AuthorizationCode.objects.select_for_update()
            .select_related("grant", "grant__customer", "grant__client")
            .filter(code_hash=tokens.secret_hash(code))
            .first()
        )
        if found is None or found.grant.client_id != client.pk:
            return None
        if found.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice revokes what the first use produced.
            grant_revoke(grant=found.grant, reason="authorization_code_reuse")
            token_event_inc(event="reuse_detected")
            return None
        if found.is_expired() or found.grant.status == GrantStatus.REVOKED:
            return None
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Kept (marked used) rather than deleted so a second redemption is recognised as reuse;
        # `cleartokens` removes it later.
        authorization_code.used_at = timezone.now()
        authorization_code.save(update_fields=["used_at"])

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.grant.customer

    def generate_token(self, user: Any = None, scope: Any = None, **kwargs: Any) -> dict[str, Any]:
        grant = grant_activate(grant=self.request.authorization_code.grant)
        issued = tokens_issue(grant=grant)
        type(grant).objects.filter(pk=grant.pk).update(last_used_at=issued.access.created_at)
        token_event_inc(event="issued")
        audit_record(
            event="oauth.code_redeemed",
            customer=grant.customer,
            detail={"grant_id": grant.pk, "client_id": grant.client.client_id},
        )
        return _token_response(
            issued, include_refresh_token=kwargs.get("include_refresh_token", True)
        )

    def save_authorization_code(self, code: str, request: Any) -> None:
        # Authlib's authorization endpoint is not used: /oauth/authorize runs our own pages and
        # issues codes with authorization_code_issue(). Reaching this would be a wiring bug.
        raise RuntimeError("Codes are issued by provider_auth.oauth.authorize, not by Authlib.")


def refresh_token_in_grace(token: RefreshToken, *, now: dt.datetime) -> bool:
    """Whether a rotated refresh token may still be exchanged (a retry, not reuse): it was
    rotated at most `OAUTH_REFRESH_GRACE_SECONDS` ago."""
    grace = dt.timedelta(seconds=settings.OAUTH_REFRESH_GRACE_SECONDS)
    return token.used_at is not None and grace > dt.timedelta(0) and now - token.used_at <= grace


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        """The refresh token, row-locked until the token request's transaction ends, or None.

        One query in the usual case: the token with its grant, locked with SKIP LOCKED. A row
        that another transaction holds — a concurrent refresh of the same token (two FlatPeak
        workers), or a revocation in progress — is skipped; then a second query waits for that
        lock.

        A token already rotated is judged by when it was rotated: within the grace window
        (`OAUTH_REFRESH_GRACE_SECONDS`) it is exchanged again for a new pair of the same grant,
        whether this request waited for the winner's lock or arrived after it committed; nothing
        is revoked and the winner's tokens keep working. Outside the window it is reuse (RFC
        9700 §4.14.2) and the whole grant is revoked — except for a request that waited for the
        lock of the very refresh that rotated it, which lost a race (possible only with the
        window switched off): `invalid_grant`, nothing revoked.
        """
        client = self.request.client
        token = refresh_token_lock(refresh_token, wait=False)
        raced = False
        if token is None:
            token = refresh_token_lock(refresh_token, wait=True)
            if token is None:
                return None  # unknown (or deleted meanwhile by cleartokens)
            raced = True
        if token.grant.client_id != client.pk:
            return None  # another client's token: not ours to judge, nothing revoked
        now = timezone.now()
        ended = grant_end_reason(token.grant, now=now)
        if ended is not None:
            # RFC 6749 §5.2 has one code for this, invalid_grant; the description says why, in
            # the same words as the tariff API's error code.
            raise InvalidGrantError(f"The grant has ended: {ended}.")
        if token.revoked_at is not None:
            return None  # revoked with its grant (or by a reuse detected meanwhile)
        if token.used_at is not None and not refresh_token_in_grace(token, now=now):
            if not raced:
                self._reuse_detected(token)
            return None
        if token.expires_at <= now:
            return None
        if not _grant_usable(token.grant, now):
            return None
        # The client authenticated this request and owns the grant: no need to load it again.
        token.grant.client = client
        return token

    def _reuse_detected(self, token: RefreshToken) -> None:
        grant_revoke(grant=token.grant, reason="refresh_token_reuse")
        token_event_inc(event="reuse_detected")

    def authenticate_user(self, refresh_token: RefreshToken) -> Any:
        # Authlib only checks that the credential has a resource owner and keeps it on the
        # request; nothing here reads it. The grant's customer id says so without loading the
        # user row (the foreign key guarantees the customer exists).
        return refresh_token.grant.customer_id

    def issue_token(self, user: Any, refresh_token: RefreshToken) -> dict[str, Any]:
        # Rotation in one place: the new pair, the old token marked used, the grant touched.
        issued = tokens_rotate(refresh_token=refresh_token)
        token_event_inc(event="refreshed")
        return _token_response(issued)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Nothing left to do: `tokens_rotate` marked the old token used, in the same
        transaction as the new pair."""


class UnsupportedTokenTypeError(OAuth2Error):
    # RFC 7009 §2.2.1 uses the RFC 6749 §5.2 format, i.e. 400 (Authlib's class answers 401).
    error = "unsupported_token_type"
    status_code = 400


class _TokenQueryMixin:
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")

    def check_params(self, request: Any, client: OAuthClient) -> None:
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' parameter.")
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenTypeError()

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        # The hint only orders the lookups (RFC 7009 §2.1): an unhinted type is still tried.
        lookups = [access_token_lookup, refresh_token_lookup]
        if token_type_hint == "refresh_token":  # noqa: S105 (a hint name)
            lookups.reverse()
        for lookup in lookups:
            found = lookup(token_string)
            if found is not None:
                return found
        return None


class RevocationEndpoint(_TokenQueryMixin, _RevocationEndpoint):
    def authenticate_token(self, request: Any, client: OAuthClient) -> Any:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and not token.check_client(client):
            # RFC 7009 §2.1: the token was not issued to this client, so the request is refused
            # (with RFC 6749 §5.2's code for "this client may not do that"); nothing revoked.
            raise UnauthorizedClientError("The token was not issued to this client.")
        return token

    def revoke_token(self, token: AccessToken | RefreshToken, request: Any) -> None:
        # Revoking either token ends the grant: FlatPeak gives up the customer's permission.
        grant_revoke(grant=token.grant, reason="client_revoked")
        token_event_inc(event="revoked")


class IntrospectionEndpoint(_TokenQueryMixin, _IntrospectionEndpoint):
    def check_params(self, request: Any, client: OAuthClient) -> None:
        # RFC 7662 §2.1: a hint the server does not know is ignored; the token is looked up
        # among every type (`query_token`). No unsupported_token_type here, unlike RFC 7009.
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' parameter.")

    def check_permission(self, token: Any, client: OAuthClient, request: Any) -> bool:
        return token.grant.client_id == client.pk  # own tokens only (RFC 7662 §4)

    def introspect_token(self, token: AccessToken | RefreshToken) -> dict[str, Any]:
        grant = token.grant
        body: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": grant.client.client_id,
            "exp": int(token.expires_at.timestamp()),
            "iat": int(token.created_at.timestamp()),
            "iss": settings.PUBLIC_BASE_URL,
            "premise_reference": grant.premise.reference,
            "directions": grant.directions,
        }
        if isinstance(token, AccessToken):
            body["token_type"] = "Bearer"  # noqa: S105
        return body


class ClientAuthFailed(InvalidClientError):
    """`invalid_client`, always 401 with a Basic challenge (RFC 6749 §5.2, RFC 7617 §2: the
    realm is required) and one message whatever failed, so that no answer tells which client
    ids exist."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__(description=CLIENT_AUTHENTICATION_FAILED, status_code=401)

    def get_headers(self) -> list[tuple[str, str]]:
        # Authlib's InvalidClientError puts the description into a realm-less challenge.
        headers = super(InvalidClientError, self).get_headers()
        headers.append(("WWW-Authenticate", f'Basic realm="{CLIENT_REALM}"'))
        return headers


# Compared against when the client id is unknown, so that it costs what a wrong secret costs.
_NO_CLIENT_SECRET_HASH = tokens.secret_hash("no client has this secret")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_DESCRIPTION_SAFE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")
# Parameters each grant cannot do without. RFC 6749 §3.1: a parameter sent without a value is
# treated as omitted. `redirect_uri` is required because /oauth/authorize always requires it
# (RFC 6749 §4.1.3), `code_verifier` because PKCE is (RFC 7636 §4.5).
_TOKEN_REQUIRED_PARAMETERS = {
    "authorization_code": ("code", "redirect_uri", "code_verifier"),
    "refresh_token": ("refresh_token",),
}


def client_request_refusal(request: HttpRequest, *, endpoint: str) -> OAuth2Error | None:
    """Why a POST to a client endpoint (`token`, `revocation`, `introspection`) is refused as
    `invalid_request` before anything else reads it, or None.

    - parameters only in an `application/x-www-form-urlencoded` body, none in the URL (RFC 6749
      §3.2, §4.1.3, §6; RFC 7009 §2.1; RFC 7662 §2.1; client credentials in the URL would end
      up in logs, §2.3.1);
    - no parameter more than once (RFC 6749 §3.1, §3.2);
    - a missing or empty required parameter is `invalid_request` (RFC 6749 §5.2), not
      `unsupported_grant_type` or `invalid_grant`;
    - one client authentication method per request (RFC 6749 §2.3): HTTP Basic and a
      `client_secret` in the body, or a body `client_id` naming another client, is refused.
      A body `client_id` equal to the Basic one only identifies the client (§3.2.1).
    """
    if request.META.get("QUERY_STRING"):
        return InvalidRequestError("Send the parameters in the request body, not in the URL.")
    if (request.content_type or "").lower() != FORM_CONTENT_TYPE:
        return InvalidRequestError(f"The request body must be {FORM_CONTENT_TYPE}.")
    form = request.POST
    for name, values in form.lists():
        if len(values) > 1:
            # error_description may only carry these characters (RFC 6749 §5.2)
            shown = f": {name}" if _DESCRIPTION_SAFE.fullmatch(name) else ""
            return InvalidRequestError(f"Repeated parameter{shown}.")
    if endpoint == "token":
        grant_type = form.get("grant_type", "")
        if not grant_type:
            return InvalidRequestError("Missing 'grant_type' parameter.")
        required = _TOKEN_REQUIRED_PARAMETERS.get(grant_type, ())
    else:
        required = ("token",)
    for name in required:
        if not form.get(name):
            return InvalidRequestError(f"Missing '{name}' parameter.")
    basic = basic_credentials_decode(request.META.get("HTTP_AUTHORIZATION", ""))
    if basic is not None:
        body_client_id = form.get("client_id", "")
        if form.get("client_secret") or (body_client_id and body_client_id != basic[0]):
            return InvalidRequestError(
                "Authenticate the client one way only: HTTP Basic or client_secret in the body."
            )
    return None


class OAuthServer(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(OAuthClient, AccessToken)

    def query_client(self, client_id: str) -> OAuthClient | None:
        return client_active_get(client_id)

    def authenticate_client(self, request: Any, methods: Any, endpoint: str = "token") -> Any:
        """client_secret_basic or client_secret_post (RFC 6749 §2.3.1), or `ClientAuthFailed`.

        Basic credentials are form-urlencoded inside (`basic_credentials_decode`), which
        Authlib's parser gets wrong (`+`). An unknown client costs one digest comparison like a
        wrong secret, and both get the same answer. Once the client has proven itself, the
        request counts against its own rate limit (`client_rate_limit_count`, which raises
        `ClientRateLimitedError` over it; the front door answers 429).
        """
        claimed = client_credentials_claimed(
            authorization=request.headers.get("Authorization", ""), form=request.form
        )
        if claimed is None or claimed.method not in methods:
            raise ClientAuthFailed()
        if "\x00" in claimed.client_id:
            client = None  # no database stores NUL in a text column
        else:
            client = self.query_client(claimed.client_id)
        if client is None:
            tokens.secret_matches(claimed.client_secret, _NO_CLIENT_SECRET_HASH)
            raise ClientAuthFailed()
        if not client.check_client_secret(claimed.client_secret):
            raise ClientAuthFailed()
        if not client.check_endpoint_auth_method(claimed.method, endpoint):
            raise ClientAuthFailed()
        client_rate_limit_count(client_id=client.client_id, endpoint=endpoint)
        request.auth_method = claimed.method
        return client

    def client_count_if_proven(self, request: Any, *, endpoint: str) -> None:
        """Count a request refused before its client was authenticated against that client's
        rate limit all the same, when its credentials prove the client: every request a
        client makes spends its budget, whatever the answer."""
        try:
            self.authenticate_client(request, CLIENT_AUTH_METHODS, endpoint)
        except ClientAuthFailed:
            pass

    def get_token_grant(self, request: Any) -> Any:
        try:
            return super().get_token_grant(request)
        except UnsupportedGrantTypeError:
            # Authlib refuses the grant type before authenticating the client.
            self.client_count_if_proven(request, endpoint="token")
            raise

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to do: `tokens_issue` stored the digests when the token was generated."""

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> HttpResponse:
        response = super().handle_response(status_code, payload, headers)
        # Every answer of the token, revocation and introspection endpoints carries or
        # concerns credentials (RFC 6749 §5.1).
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def server_build() -> OAuthServer:
    server = OAuthServer()
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    return server


server = server_build()


def _refusal_response(request: HttpRequest, refusal: OAuth2Error, *, endpoint: str) -> HttpResponse:
    server.client_count_if_proven(server.create_oauth2_request(request), endpoint=endpoint)
    return server.handle_error_response(request, refusal)


def token_response(request: HttpRequest) -> HttpResponse:
    """POST /oauth/token in one transaction (the row locks live until it commits)."""
    refusal = client_request_refusal(request, endpoint="token")
    if refusal is not None:
        return _refusal_response(request, refusal, endpoint="token")
    with transaction.atomic():
        return server.create_token_response(request)


def endpoint_response(request: HttpRequest, *, endpoint: str) -> HttpResponse:
    """POST /oauth/revoke (`revocation`) or /oauth/introspect (`introspection`)."""
    refusal = client_request_refusal(request, endpoint=endpoint)
    if refusal is not None:
        return _refusal_response(request, refusal, endpoint=endpoint)
    return server.create_endpoint_response(endpoint, request)
