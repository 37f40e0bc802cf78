"""Pages of the connect flow (`GET /flatpeak/auth`) and of `GET /oauth/authorize`.

Views stay thin: load the flow session, check it belongs to this browser, call one service,
answer with a page (`connect.pages`) or a 303. The views own the browser's Django session: they
store the binding secret a service hands back and the login waiting for a one-time code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import LoginForm
from accounts.models import User
from accounts.sources.base import TariffSourceError
from provider_auth.connect import pages, selectors, services
from provider_auth.connect.errors import (
    ConnectLinkExpired,
    ConnectLinkInvalid,
    ConnectNotConfigured,
)
from provider_auth.connect.forms import PremiseChoiceForm
from provider_auth.connect.models import ConnectSession, FlowKind, Outcome, SessionState
from provider_auth.connect.pages import see_other, step_url
from provider_auth.connect.submission import (
    SubmissionStatus,
    connect_session_abandon,
    connect_session_oauth_finish,
    connect_session_submit,
)
from provider_auth.flatpeak.errors import (
    FlatPeakMisconfigured,
    FlatPeakRejected,
    FlatPeakUnavailable,
)
from provider_auth.oauth.authorize import (
    AuthorizationRequestInvalid,
    authorization_error_response,
    authorization_request_validate,
)
from provider_auth.security.login import customer_authenticate
from provider_auth.security.network import client_ip
from provider_auth.security.otp import login_failed_message, otp_challenge_start
from provider_auth.security.ratelimit import auth_uri_rate_limited

logger = logging.getLogger(__name__)

PENDING_LOGIN_KEY = "connect:pending-login:{public_id}"

# Decided and not yet acknowledged: sent now, or to be (re)sent.
_AWAITING_FLATPEAK = (SessionState.DECIDED, SessionState.SUBMITTING)


def _visitor(request: HttpRequest) -> dict[str, Any]:
    """The client's address (through our trusted proxies) and user agent, for the services."""
    return {"ip": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


def _bind(request: HttpRequest, start: services.ConnectStart) -> None:
    """Store the secret binding a new flow session to this browser."""
    if start.binding_secret:
        key = selectors.session_binding_key(start.session.public_id)
        request.session[key] = start.binding_secret


# --- Loading a flow session ---------------------------------------------------------------
def _load(
    request: HttpRequest, public_id: str
) -> tuple[ConnectSession | None, HttpResponse | None]:
    """The bound session; or the page to show instead.

    Only a POST records activity (and so the expiry of an idle session): a GET reads, and sees
    an idle open session as expired without writing it (`connect_session_seen_state`).
    """
    session = selectors.connect_session_get(public_id=public_id)
    if session is None:
        return None, pages.invalid_link(request, status=404)
    if session.is_finished:
        return None, pages.finished_or_used(request, session)
    if not selectors.connect_session_is_bound(session=session, request=request):
        return None, pages.elsewhere(request)
    if request.method == "POST":
        session = services.connect_session_touch(session=session)
    return session, None


def _with_session(
    view: Callable[[HttpRequest, ConnectSession], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A step view of the flow gets the session `_load` found, or `_load`'s page is shown instead.

    Every step (the GET page and each POST) starts the same way, so the refusals (unknown link,
    finished flow, another browser) cannot differ from one step to the next.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, public_id: str) -> HttpResponse:
        session, refusal = _load(request, public_id)
        if refusal is not None:
            return refusal
        assert session is not None  # noqa: S101 (narrowing for the type checker)
        try:
            return view(request, session)
        except TariffSourceError as error:
            logger.warning("Tariff source unavailable in the connect flow: %s", error)
            return pages.source_unavailable(request, session)

    return wrapper


def _customer(request: HttpRequest, session: ConnectSession) -> User | None:
    """The logged-in customer of this flow, completing a login finished elsewhere.

    The one write a GET may make: a login with a one-time code ends in the shared code page,
    whose 303 lands on the step page, so that GET is where this flow learns who logged in.
    """
    customer = selectors.connect_session_customer(session=session, user=request.user)
    if customer is None and request.user.is_authenticated:
        pending = request.session.get(PENDING_LOGIN_KEY.format(public_id=session.public_id))
        if pending == request.user.pk:
            del request.session[PENDING_LOGIN_KEY.format(public_id=session.public_id)]
            services.connect_session_login(session=session, customer=request.user)
            customer = request.user
    return customer


def _finish_response(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    """After a decision: submit (FlatPeak) or build the client redirect (OAuth); then 303."""
    if session.kind == FlowKind.OAUTH:
        result = connect_session_oauth_finish(session=session)
    else:
        result = connect_session_submit(session=session)
    if result.status == SubmissionStatus.COMPLETED:
        return see_other(result.redirect_target)
    return see_other(step_url(session))


# --- Entry points -------------------------------------------------------------------------
@never_cache
@require_GET
@auth_uri_rate_limited
def entry(request: HttpRequest) -> HttpResponse:
    """`GET /flatpeak/auth?connect_token=cot_…` (or `fp_cot=`): FlatPeak sends the browser here.

    The start step: the only GET of the flow that writes (the flow session, its logo, the
    browser binding), because the link FlatPeak hands out is a plain GET.
    """
    token = request.GET.get("connect_token") or request.GET.get("fp_cot") or ""
    if "redirect_uri" in request.GET:
        # docs/flatpeak-contract.md §1: never redirect to a URL the browser brought; keep a
        # trace of it.
        logger.info("Ignoring a browser-supplied redirect_uri on the authentication URI")
    try:
        start = services.connect_session_start(connect_token=token, **_visitor(request))
    except ConnectLinkInvalid:
        return pages.invalid_link(request)
    except ConnectNotConfigured as error:
        logger.error("%s", error)
        return pages.unavailable(request)
    except ConnectLinkExpired:
        return pages.expired(request)
    except FlatPeakUnavailable:
        return pages.unavailable(
            request, retry_url=f"{reverse('connect:entry')}?connect_token={token}"
        )
    except FlatPeakMisconfigured:
        return pages.unavailable(request)
    except FlatPeakRejected:
        return pages.unavailable(request, status=502)
    _bind(request, start)
    session = start.session
    if session.is_finished:
        return pages.finished_or_used(request, session)
    if not selectors.connect_session_is_bound(session=session, request=request):
        return pages.elsewhere(request)
    return see_other(step_url(session))


@never_cache
@require_GET
@auth_uri_rate_limited
def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """`GET /oauth/authorize`: validate the request, then the same pages as FlatPeak's flow.

    A start step like `entry`: it opens the flow session and binds it to this browser.
    """
    try:
        authorization = authorization_request_validate(request)
    except AuthorizationRequestInvalid as error:
        if error.redirectable:
            return authorization_error_response(error=error)
        logger.info("Refused an authorization request: %s", error.message)
        return pages.invalid_authorization(request)
    start = services.connect_session_open_oauth(
        authorization={
            "client_id": authorization.client.client_id,
            "display_name": authorization.client.name,
            "redirect_uri": authorization.redirect_uri,
            "scope": authorization.scope,
            "state": authorization.state,
            "code_challenge": authorization.code_challenge,
            "code_challenge_method": authorization.code_challenge_method,
        },
    )
    _bind(request, start)
    return see_other(step_url(start.session))


# --- The device maker's logo, same-origin ----------------------------------------------------
LOGO_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _logo_refusal(status: int) -> HttpResponse:
    response = HttpResponse(status=status, content_type="text/plain; charset=utf-8")
    response["Content-Security-Policy"] = LOGO_CSP
    return response


@require_GET
def logo(request: HttpRequest, public_id: str) -> HttpResponse:
    """`GET /flatpeak/auth/s/<id>/logo`: the stored logo, only to the browser bound to the flow.

    An image, never a page: refusals are empty 404/403s, and the body is served under a CSP
    that blocks everything should someone open it as a document.
    """
    session = selectors.connect_session_get(public_id=public_id)
    if session is None:
        return _logo_refusal(404)
    if not selectors.connect_session_is_bound(session=session, request=request):
        return _logo_refusal(403)
    stored = selectors.connect_session_logo_get(session=session)
    if stored is None:
        return _logo_refusal(404)
    response = HttpResponse(bytes(stored.content), content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = LOGO_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=600"
    return response


# --- The step page: which page this flow needs now ----------------------------------------
@never_cache
@require_GET
@_with_session
def step(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    """The page this flow needs now. It only reads (but see `_customer`): every change of the
    flow is a POST, so a reload, a prefetch or a second tab changes nothing."""
    state = selectors.connect_session_seen_state(session=session, now=timezone.now())
    if state == SessionState.EXPIRED:
        return pages.expired(request, session)
    if state in _AWAITING_FLATPEAK:
        # FlatPeak's flow: FlatPeak was not reached. An OAuth flow gets here only if the
        # request that decided died before the redirect: "Try again" (a POST) completes it.
        return pages.retry_page(request, session)
    customer = _customer(request, session)
    if customer is None:
        return pages.login_page(request, session, form=LoginForm())
    premises = selectors.connect_session_premise_choices(session=session, customer=customer)
    chosen = next((p for p in premises if p.pk and p.pk == session.premise_id), None)
    if chosen is not None:
        return pages.consent_page(
            request, session, customer, premise=chosen, several=len(premises) > 1
        )
    if not premises:
        return pages.no_tariff_page(request, session, customer)
    # A single premise is chosen when the customer logs in; this is a set that changed since.
    return pages.choose_page(request, session, PremiseChoiceForm(premises=premises))


# --- POST actions (each answers 303, or the same page with an error) ----------------------
_post_view = [never_cache, csrf_protect, require_POST]


def _post(view: Any) -> Any:
    for decorator in reversed(_post_view):
        view = decorator(view)
    return view


@sensitive_post_parameters("password")
@_post
@_with_session
def login_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state != SessionState.OPEN:
        return see_other(step_url(session))
    binding_key = selectors.session_binding_key(session.public_id)
    binding = request.session.get(binding_key)
    action = request.POST.get("action", "login")
    if action == "continue" and request.user.is_authenticated:
        services.connect_session_login(session=session, customer=request.user)
        return see_other(step_url(session))
    if action == "switch":
        logout(request)  # flushes the Django session: keep this browser's binding
        request.session[binding_key] = binding
        return see_other(step_url(session))
    form = LoginForm(request.POST)
    if not settings.LOCAL_LOGIN_ENABLED:  # passwords are for the identity provider only
        return see_other(step_url(session))
    if not form.is_valid():
        return pages.login_page(request, session, form=form, status=400)
    result = customer_authenticate(
        request=request,
        email=form.cleaned_data["username"],
        password=form.cleaned_data["password"],
    )
    if not result.ok or result.user is None:
        services.connect_session_login_failed(session=session)
        error = login_failed_message()  # one message: no account enumeration
        return pages.login_page(
            request,
            session,
            form=LoginForm(initial={"username": form.cleaned_data["username"]}),
            error=error,
            status=401,  # like the account site's login; the lockout page keeps it
        )
    if result.needs_otp:
        # Logged in only after the code; the step page then binds the customer (PENDING_LOGIN).
        request.session[PENDING_LOGIN_KEY.format(public_id=session.public_id)] = result.user.pk
        return otp_challenge_start(
            request=request,
            user=result.user,
            next_url=step_url(session),
            cancel_url=pages.cancel_url(session),
            cancel_label=pages.cancel_label(session),
            keep_session_keys=[binding_key, PENDING_LOGIN_KEY.format(public_id=session.public_id)],
        )
    login(request, result.user)  # a new session key; the binding is carried over below
    request.session[binding_key] = binding
    services.connect_session_login(session=session, customer=result.user)
    return see_other(step_url(session))


@_post
@_with_session
def address_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    customer = _customer(request, session)
    if session.state != SessionState.OPEN or customer is None:
        return see_other(step_url(session))
    if "not_listed" in request.POST:
        session = services.connect_session_decide(
            session=session,
            outcome=Outcome.NO_TARIFF,
            reason="address_not_listed",
            **_visitor(request),
        )
        return _finish_response(request, session)
    if "change" in request.POST:
        services.connect_session_premise_forget(session=session)
        return see_other(step_url(session))
    premises = selectors.connect_session_premise_choices(session=session, customer=customer)
    form = PremiseChoiceForm(request.POST, premises=premises)
    if not form.is_valid():
        return pages.choose_page(request, session, form, status=400)
    services.connect_session_premise_choose(
        session=session, customer=customer, premise_reference=form.cleaned_data["premise"]
    )
    return see_other(step_url(session))


@_post
@_with_session
def decide_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.OPEN:
        customer = _customer(request, session)
        decision = request.POST.get("decision")
        if customer is None or decision not in ("allow", "deny") or session.premise_id is None:
            return see_other(step_url(session))
        client = (
            selectors.flatpeak_oauth_client_get() if session.kind == FlowKind.FLATPEAK else None
        )
        if decision == "allow" and session.kind == FlowKind.FLATPEAK and client is None:
            logger.error("FlatPeak's OAuth client (FLATPEAK_OAUTH_CLIENT_ID) is missing")
            return pages.unavailable(request)
        try:
            session = services.connect_session_decide(
                session=session,
                outcome=Outcome.AUTHORISED if decision == "allow" else Outcome.DECLINED,
                reason="" if decision == "allow" else "customer_declined",
                client=client,
                **_visitor(request),
            )
        except services.ConnectDecisionInvalid:
            return see_other(step_url(session))
    if session.state not in _AWAITING_FLATPEAK:
        # Already finished by a concurrent request (double tap): show where it ended.
        session.refresh_from_db()
        target = selectors.connect_session_redirect_target(session=session)
        if session.state == SessionState.COMPLETED and target:
            return see_other(target)
        return see_other(step_url(session))
    return _finish_response(request, session)


@_post
@_with_session
def no_tariff_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.OPEN and _customer(request, session) is not None:
        session = services.connect_session_decide(
            session=session,
            outcome=Outcome.NO_TARIFF,
            reason="no_active_contract",
            **_visitor(request),
        )
    if session.state not in _AWAITING_FLATPEAK:
        return see_other(step_url(session))
    return _finish_response(request, session)


@_post
@_with_session
def cancel_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.OPEN:
        login_failed = session.login_failed and _customer(request, session) is None
        session = services.connect_session_decide(
            session=session,
            outcome=Outcome.LOGIN_FAILED if login_failed else Outcome.CANCELLED,
            reason="login_failed" if login_failed else "customer_cancelled",
            **_visitor(request),
        )
        return _finish_response(request, session)
    if session.kind == FlowKind.OAUTH and session.state == SessionState.DECIDED:
        return _finish_response(request, session)
    # Expired, or decided but FlatPeak unreachable: give up without a submission.
    session = connect_session_abandon(session=session, **_visitor(request))
    target = selectors.connect_session_redirect_target(session=session)
    if session.is_finished and target:
        return see_other(target)
    return see_other(step_url(session))


@_post
@_with_session
def retry_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state not in _AWAITING_FLATPEAK:
        return see_other(step_url(session))
    return _finish_response(request, session)
