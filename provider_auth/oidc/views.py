"""Federated login pages: start (POST), callback (GET), back-channel logout, RP logout.

The callback never shows the identity provider's text and never redirects to a URL it brought
(`error_uri` is ignored): every outcome is one of our pages or our own login step.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from provider_auth.connect import selectors as connect_selectors
from provider_auth.connect import services as connect_services
from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oidc import services
from provider_auth.oidc.conf import oidc_enabled, oidc_settings
from provider_auth.oidc.errors import OidcInvalid, OidcUnavailable
from provider_auth.oidc.provider import oidc_metadata_get

logger = logging.getLogger(__name__)

# The identity provider sends these when the customer declined or could not log in: back to
# our login step, where they can try again or cancel.
RETURN_TO_LOGIN_ERRORS = {
    "access_denied",
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
}
UNAVAILABLE_ERRORS = {"server_error", "temporarily_unavailable"}
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
GO_KEY = "oidc:go"


def _see_other(location: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = location
    return response


def _connect_session(request: HttpRequest, public_id: str) -> ConnectSession | None:
    """The open connect session of this browser, or None."""
    session = connect_selectors.connect_session_get(public_id=public_id)
    if session is None or session.state != SessionState.OPEN:
        return None
    if not connect_selectors.connect_session_is_bound(session=session, request=request):
        return None
    return session


def _page(
    request: HttpRequest,
    *,
    title: str,
    text: str,
    status: int,
    return_to: dict[str, str] | None,
    retry: bool = False,
    support_url: str = "",
    login_url: str = "",
) -> HttpResponse:
    context: dict[str, Any] = {
        "title": title,
        "text": text,
        "support_url": support_url,
        "login_url": login_url,
    }
    return_to = return_to or {}
    public_id = return_to.get("connect", "")
    if public_id:
        session = _connect_session(request, public_id)
        if session is not None:
            context["flow"] = session
            context["partner"] = {"name": session.flatpeak_account_name}
            context["cancel_url"] = reverse("connect:cancel", args=[public_id])
            context["login_url"] = login_url or reverse("connect:step", args=[public_id])
    if retry:
        context["retry_action"] = reverse("oidc:login")
        context["retry_fields"] = return_to
    return render(request, "oidc/message.html", context, status=status)


def _unavailable(request: HttpRequest, return_to: dict[str, str] | None) -> HttpResponse:
    return _page(
        request,
        title=_("Sign-in is temporarily unavailable"),
        text=_("We could not reach %(name)s's sign-in service. Please try again in a moment.")
        % {"name": settings.OIDC_DISPLAY_NAME},
        status=503,
        return_to=return_to,
        retry=True,
    )


def _invalid(request: HttpRequest, return_to: dict[str, str] | None) -> HttpResponse:
    return _page(
        request,
        title=_("This sign-in could not be completed"),
        text=_(
            "The answer from the sign-in service was not valid, so you are not logged in. "
            "Please start again."
        ),
        status=400,
        return_to=return_to,
    )


def _return_to(request: HttpRequest) -> dict[str, str] | None:
    """Where the login goes back to: a connect session of this browser, or a local page."""
    public_id = request.POST.get("connect", "")
    if public_id:
        return {"connect": public_id} if _connect_session(request, public_id) else None
    next_url = request.POST.get("next", "") or reverse("accounts:home")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not next_url.startswith("/"):
        next_url = reverse("accounts:home")
    return {"next": next_url}


@never_cache
@csrf_protect
@require_POST
def login_start(request: HttpRequest) -> HttpResponse:
    """`POST /oidc/login`: off to the identity provider (the CSRF token stops login CSRF)."""
    if not oidc_enabled():
        return _see_other(reverse("accounts:login"))
    return_to = _return_to(request)
    if return_to is None:  # a finished, foreign or unknown connect session: its own page says so
        session = connect_selectors.connect_session_get(public_id=request.POST.get("connect", ""))
        if session is None:
            return _see_other(reverse("accounts:login"))
        return _see_other(reverse("connect:step", args=[session.public_id]))
    try:
        url = services.oidc_login_start(
            request=request, config=oidc_settings(), return_to=return_to
        )
    except OidcUnavailable:
        return _unavailable(request, return_to)
    # Chromium applies our pages' CSP form-action to every redirect after a form POST, so the
    # POST lands on our own page, which then sends the browser on (no CSP covers that step).
    request.session[GO_KEY] = {"url": url, "connect": return_to.get("connect", "")}
    return _see_other(reverse("oidc:continue"))


@never_cache
@require_GET
def continue_to_provider(request: HttpRequest) -> HttpResponse:
    """`GET /oidc/continue`: "Taking you to …": a refresh, and a link for when it does not."""
    go = request.session.pop(GO_KEY, None)
    if not isinstance(go, dict) or not isinstance(go.get("url"), str):
        return _see_other(reverse("accounts:login"))
    context: dict[str, Any] = {
        "provider_url": go["url"],
        "display_name": settings.OIDC_DISPLAY_NAME,
    }
    session = _connect_session(request, go["connect"]) if go.get("connect") else None
    if session is not None:  # Cancel stays on every page of the flow
        context["flow"] = session
        context["partner"] = {"name": session.flatpeak_account_name}
        context["cancel_url"] = reverse("connect:cancel", args=[session.public_id])
    response = render(request, "oidc/continue.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _finish(
    request: HttpRequest, return_to: dict[str, str], customer: Any
) -> tuple[HttpResponse, bool]:
    """Log the customer in where the login started; and whether a login happened."""
    public_id = return_to.get("connect", "")
    if public_id:
        session = _connect_session(request, public_id)
        if session is None:  # finished or expired meanwhile: its page says so, nobody logs in
            return _see_other(reverse("connect:step", args=[public_id])), False
        binding_key = connect_selectors.session_binding_key(public_id)
        binding = request.session.get(binding_key)
        login(request, customer, backend=AUTH_BACKEND)  # a new key; the binding carried over
        request.session[binding_key] = binding
        connect_services.connect_session_login(session=session, customer=customer)
        return _see_other(reverse("connect:step", args=[public_id])), True
    login(request, customer, backend=AUTH_BACKEND)
    return _see_other(return_to.get("next") or reverse("accounts:home")), True


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """`GET /oidc/callback`: the identity provider's answer, checked before anything happens."""
    config = oidc_settings()
    if not oidc_enabled():
        return _invalid(request, None)
    state = request.GET.get("state", "")
    pending = services.oidc_pending_take(request=request, state=state) if state else None
    if pending is None or pending.get("issuer") != config.issuer:
        services.oidc_login_rejected(
            request=request, reason="unknown_or_replayed_state", issuer=config.issuer
        )
        return _invalid(request, None)
    return_to: dict[str, str] = pending["return_to"]
    # RFC 9207: an `iss` parameter naming another issuer is a mix-up attack.
    if "iss" in request.GET and request.GET["iss"] != config.issuer:
        services.oidc_login_rejected(
            request=request, reason="iss_parameter_mismatch", issuer=config.issuer
        )
        return _invalid(request, return_to)
    error = request.GET.get("error", "")
    if error:
        logger.info("The identity provider answered error=%s", error[:60])
        if error in RETURN_TO_LOGIN_ERRORS:
            if return_to.get("connect"):
                return _see_other(reverse("connect:step", args=[return_to["connect"]]))
            return _see_other(reverse("accounts:login"))
        if error in UNAVAILABLE_ERRORS:
            return _unavailable(request, return_to)
        services.oidc_login_rejected(
            request=request, reason=f"error:{error[:60]}", issuer=config.issuer
        )
        return _invalid(request, return_to)
    code = request.GET.get("code", "")
    if not code:
        services.oidc_login_rejected(request=request, reason="no_code", issuer=config.issuer)
        return _invalid(request, return_to)
    try:
        claims = services.oidc_code_exchange(
            config=config, code=code, verifier=pending["verifier"], nonce=pending["nonce"]
        )
    except OidcUnavailable:
        return _unavailable(request, return_to)
    except OidcInvalid as invalid:
        services.oidc_login_rejected(request=request, reason=invalid.reason, issuer=config.issuer)
        return _invalid(request, return_to)
    resolved = services.oidc_identity_resolve(request=request, config=config, claims=claims)
    if resolved.customer is None or resolved.identity is None:
        services.oidc_login_rejected(
            request=request, reason="no_customer", issuer=config.issuer, subject=claims["sub"]
        )
        public_id = return_to.get("connect", "")
        session = _connect_session(request, public_id) if public_id else None
        if session is not None:
            connect_services.connect_session_login_failed(session=session)  # Cancel: LOGIN_FAILED
        return _page(
            request,
            title=_("We could not find a supply account for this login"),
            text=_(
                "You logged in at %(name)s, but no supply account of ours belongs to that "
                "login. Contact us and we will link it, or cancel."
            )
            % {"name": settings.OIDC_DISPLAY_NAME},
            status=403,
            return_to=return_to,
            support_url=config.support_url,
        )
    response, logged_in = _finish(request, return_to, resolved.customer)
    if logged_in:
        services.oidc_login_record(request=request, identity=resolved.identity, claims=claims)
    return response


@csrf_exempt  # a server-to-server POST from the identity provider, authenticated by its JWT
@never_cache
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """`POST /oidc/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0, 2.5–2.8)."""
    config = oidc_settings()
    token = request.POST.get("logout_token", "")
    if not oidc_enabled() or not token:
        return JsonResponse({"error": "invalid_request"}, status=400)
    try:
        services.oidc_backchannel_logout(config=config, logout_token=token)
    except OidcInvalid as invalid:
        logger.warning("Back-channel logout token refused: %s", invalid.reason)
        return JsonResponse(
            {"error": "invalid_request", "error_description": "logout token not valid"},
            status=400,
        )
    except OidcUnavailable:
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    response = HttpResponse(status=200)
    response["Cache-Control"] = "no-cache, no-store"
    return response


@never_cache
@csrf_protect
@require_POST
def rp_logout(request: HttpRequest) -> HttpResponse:
    """`POST /oidc/logout`: end our session, then the identity provider's (RP-initiated)."""
    federated = request.session.get(services.LOGIN_KEY)
    logout(request)
    if not federated or not oidc_enabled():
        return _see_other(reverse("accounts:login"))
    config = oidc_settings()
    try:
        end_session = oidc_metadata_get(config=config).get("end_session_endpoint")
    except OidcUnavailable:
        end_session = None
    if not isinstance(end_session, str) or not end_session:
        return _see_other(reverse("accounts:login"))
    query = urlencode(
        {
            "client_id": config.client_id,
            "post_logout_redirect_uri": settings.PUBLIC_BASE_URL + reverse("accounts:login"),
        }
    )
    return _see_other(f"{end_session}{'&' if '?' in end_session else '?'}{query}")
