"""Pages of the connect flow (`GET /flatpeak/auth`) and of `GET /oauth/authorize`.

Views stay thin: load the flow session, check it belongs to this browser, call one service,
answer with a page or a 303. Every page carries a Cancel control while there is a session to
cancel; no page shows upstream text or a stack trace.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.charts import tariff_chart_build
from accounts.forms import LoginForm
from accounts.selectors import contract_get_active
from provider_auth.connect import selectors, services
from provider_auth.connect.forms import PremiseChoiceForm
from provider_auth.connect.models import ConnectSession, FlowKind, Outcome, SessionState
from provider_auth.consent.selectors import connect_session_consent_terms
from provider_auth.flatpeak.client import (
    FlatPeakClient,
    connect_token_is_valid,
    connect_token_redact,
)
from provider_auth.flatpeak.errors import (
    FlatPeakMisconfigured,
    FlatPeakNotFound,
    FlatPeakRejected,
    FlatPeakUnavailable,
)
from provider_auth.flatpeak.logo import partner_logo_fetch
from provider_auth.oauth.authorize import (
    AuthorizationRequestInvalid,
    authorization_error_response,
    authorization_request_validate,
)
from provider_auth.security.login import customer_authenticate
from provider_auth.security.middleware import content_security_policy
from provider_auth.security.otp import login_failed_message, otp_challenge_start
from provider_auth.security.ratelimit import auth_uri_rate_limited

logger = logging.getLogger(__name__)

_CSP_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*:(//[A-Za-z0-9.\-]+(:[0-9]{1,5})?)?")
PENDING_LOGIN_KEY = "connect:pending-login:{public_id}"


# --- Responses ----------------------------------------------------------------------------
def _see_other(location: str) -> HttpResponse:
    # A bare 303: targets come from FlatPeak's API (host-checked) or a client's registered
    # redirect URI (possibly a custom scheme, which HttpResponseRedirect would refuse).
    response = HttpResponse(status=303)
    response["Location"] = location
    return response


def _cancel_label(session: ConnectSession) -> str:
    if session.kind == FlowKind.OAUTH:
        return _("Cancel and return to %(name)s") % {"name": session.flatpeak_account_name}
    return _("Cancel and enter my tariff another way")


def _step_url(session: ConnectSession) -> str:
    return reverse("connect:step", args=[session.public_id])


def _partner(session: ConnectSession) -> dict[str, str]:
    if session.kind == FlowKind.OAUTH:
        return {"name": session.flatpeak_account_name}
    context = selectors.connect_session_context(session=session)
    has_logo = selectors.connect_session_logo_exists(session=session)
    return {
        "name": context.display_name,
        # Fetched and checked server-side, served by us: pages load no third-party resource.
        "logo_url": reverse("connect:logo", args=[session.public_id]) if has_logo else "",
        "terms_url": context.terms_url,
        "privacy_url": context.privacy_url,
        "support_url": context.support_url,
    }


def _page(
    request: HttpRequest,
    template: str,
    *,
    session: ConnectSession | None = None,
    status: int = 200,
    cancellable: bool = True,
    **context: Any,
) -> HttpResponse:
    if session is not None:
        context.setdefault("partner", _partner(session))
        context["flow"] = session
        # FlatPeak's test mode (live_mode false): the sandbox banner, when the sandbox is on.
        context["show_sandbox_banner"] = session.context.get("live_mode") is False
        if cancellable and not session.is_finished:
            context["cancel_url"] = reverse("connect:cancel", args=[session.public_id])
    response = render(request, template, context, status=status)
    if session is not None and session.kind == FlowKind.OAUTH:
        # Chromium applies form-action to the 303 after our POSTs: allow the client's origin.
        response["Content-Security-Policy"] = _csp_with_form_target(
            session.context.get("redirect_uri", "")
        )
    return response


def _csp_with_form_target(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        source = f"{parts.scheme}://{parts.netloc}"
    elif parts.scheme:
        source = f"{parts.scheme}:"
    else:
        return content_security_policy()
    if not _CSP_SOURCE.fullmatch(source):  # registered by an operator, but never trust syntax
        return content_security_policy()
    return content_security_policy().replace("form-action 'self'", f"form-action 'self' {source}")


def _message(
    request: HttpRequest,
    *,
    title: str,
    text: str,
    status: int,
    session: ConnectSession | None = None,
    **extra: Any,
) -> HttpResponse:
    return _page(
        request,
        "connect/message.html",
        session=session,
        status=status,
        title=title,
        text=text,
        **extra,
    )


def _invalid_link(request: HttpRequest, status: int = 400) -> HttpResponse:
    return _message(
        request,
        title=_("This link is not valid"),
        text=_(
            "The address you followed is incomplete or damaged. Go back to the app and "
            "start connecting your tariff again."
        ),
        status=status,
    )


def _expired(request: HttpRequest, session: ConnectSession | None = None) -> HttpResponse:
    return _message(
        request,
        title=_("This link has expired"),
        text=_(
            "For your security, connection links work only for a short time. Return to "
            "the app and start again."
        ),
        status=410,
        session=session,
        return_url=selectors.connect_session_fallback_redirect(session=session) if session else "",
    )


def _unavailable(request: HttpRequest, *, retry_url: str = "", status: int = 503) -> HttpResponse:
    return _message(
        request,
        title=_("This service is temporarily unavailable"),
        text=_(
            "We could not reach the service that connects your app. Please try again in a moment."
        ),
        status=status,
        retry_url=retry_url,
    )


def _elsewhere(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        title=_("This link was opened in another browser"),
        text=_(
            "For your security, a connection link works only in the browser that opened it "
            "first. Return to the app and start again from there."
        ),
        status=403,
    )


def _finished(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.FAILED:
        if session.last_submission_error == "token_expired":
            return _expired(request)
        return _message(
            request,
            title=_("We could not complete the connection"),
            text=_(
                "The app's service did not accept the connection, so nothing was shared. "
                "Return to the app and start again."
            ),
            status=409,
            session=session,
        )
    if not session.redirect_target and session.kind == FlowKind.FLATPEAK:
        return _message(
            request,
            title=_("We cannot send you back automatically"),
            text=_(
                "Your choice was recorded, but we could not send you back to the app. "
                "Please return to the app yourself."
            ),
            status=502,
            session=session,
        )
    return _message(
        request,
        title=_("You have already finished here"),
        text=_("Your choice was recorded. Return to the app to continue."),
        status=200,
        session=session,
        return_url=session.redirect_target,
    )


# --- Loading a flow session ---------------------------------------------------------------
def _load(
    request: HttpRequest, public_id: str
) -> tuple[ConnectSession | None, HttpResponse | None]:
    """The bound, unexpired session; or the page to show instead."""
    session = selectors.connect_session_get(public_id=public_id)
    if session is None:
        return None, _invalid_link(request, status=404)
    if session.is_finished:
        return None, _finished(request, session)
    if not selectors.connect_session_is_bound(session=session, request=request):
        return None, _elsewhere(request)
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
        return view(request, session)

    return wrapper


def _customer(request: HttpRequest, session: ConnectSession) -> Any:
    """The logged-in customer of this flow, completing a login finished elsewhere (OTP)."""
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
        location = services.connect_session_oauth_finish(session=session)
        return _see_other(location or _step_url(session))
    result = services.connect_session_submit(session=session)
    if result.status == "completed":
        return _see_other(result.session.redirect_target)
    return _see_other(_step_url(session))


# --- Entry points -------------------------------------------------------------------------
@never_cache
@require_GET
@auth_uri_rate_limited
def entry(request: HttpRequest) -> HttpResponse:
    """`GET /flatpeak/auth?connect_token=cot_…` (or `fp_cot=`): FlatPeak sends the browser here."""
    token = request.GET.get("connect_token") or request.GET.get("fp_cot") or ""
    if not connect_token_is_valid(token):
        return _invalid_link(request)
    if "redirect_uri" in request.GET:
        # Contract §1: never redirect to a URL the browser brought; keep a trace of it.
        logger.info("Ignoring a browser-supplied redirect_uri on the authentication URI")
    session = selectors.connect_session_get_by_token(connect_token=token)
    if session is None:
        if selectors.flatpeak_oauth_client_get() is None:
            logger.error(
                "No active OAuth client with client_id=FLATPEAK_OAUTH_CLIENT_ID: run "
                "`manage.py create_oauth_client` for FlatPeak; the connect flow cannot work"
            )
            return _unavailable(request)
        retry_url = f"{reverse('connect:entry')}?connect_token={token}"
        try:
            context = FlatPeakClient().session_context_get(connect_token=token)
        except FlatPeakNotFound:
            return _expired(request)
        except FlatPeakUnavailable:
            return _unavailable(request, retry_url=retry_url)
        except FlatPeakMisconfigured:
            return _unavailable(request)
        except FlatPeakRejected:
            return _unavailable(request, status=502)
        logo = partner_logo_fetch(url=context.logo_url, label=connect_token_redact(token))
        session = services.connect_session_open(
            request=request, connect_token=token, context=context, logo=logo
        )
    if session.is_finished:
        return _finished(request, session)
    if not selectors.connect_session_is_bound(session=session, request=request):
        return _elsewhere(request)
    return _see_other(_step_url(session))


@never_cache
@require_GET
@auth_uri_rate_limited
def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """`GET /oauth/authorize`: validate (engineer C's rules), then the same pages as FlatPeak's."""
    try:
        authorization = authorization_request_validate(request)
    except AuthorizationRequestInvalid as error:
        if error.redirectable:
            return authorization_error_response(error=error)
        logger.info("Refused an authorization request: %s", error.message)
        return _message(
            request,
            title=_("This sign-in link is not valid"),
            text=_(
                "The app that sent you here is not registered with us, or sent you with a "
                "wrong address. Nothing was shared. Go back to the app."
            ),
            status=400,
        )
    session = services.connect_session_open_oauth(
        request=request,
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
    return _see_other(_step_url(session))


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
    if session.state == SessionState.EXPIRED:
        return _expired(request, session)
    if session.state == SessionState.DECIDED:
        if session.kind == FlowKind.OAUTH:
            return _finish_response(request, session)
        return _page(
            request,
            "connect/retry.html",
            session=session,
            status=503,
            retry_url=reverse("connect:retry", args=[session.public_id]),
        )
    customer = _customer(request, session)
    if customer is None:
        return _login_page(request, session, form=LoginForm())
    premises = list(selectors.connect_session_premises(session=session, customer=customer))
    if session.premise_id and any(p.pk == session.premise_id for p in premises):
        return _consent_page(request, session, customer, several=len(premises) > 1)
    if not premises:
        return _page(
            request,
            "connect/no_tariff.html",
            session=session,
            customer=customer,
            no_tariff_url=reverse("connect:no_tariff", args=[session.public_id]),
        )
    if len(premises) == 1:
        services.connect_session_premise_choose(
            session=session, customer=customer, premise_reference=premises[0].reference
        )
        return _consent_page(request, session, customer, several=False)
    return _choose_page(request, session, PremiseChoiceForm(premises=premises))


def _login_page(
    request: HttpRequest,
    session: ConnectSession,
    *,
    form: LoginForm,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return _page(
        request,
        "connect/login.html",
        session=session,
        status=status,
        form=form,
        login_error=error,
        current_user=request.user if request.user.is_authenticated else None,
        action_url=reverse("connect:login", args=[session.public_id]),
    )


def _choose_page(
    request: HttpRequest, session: ConnectSession, form: PremiseChoiceForm, status: int = 200
) -> HttpResponse:
    return _page(
        request,
        "connect/choose_address.html",
        session=session,
        status=status,
        form=form,
        action_url=reverse("connect:address", args=[session.public_id]),
    )


def _consent_page(
    request: HttpRequest, session: ConnectSession, customer: Any, *, several: bool
) -> HttpResponse:
    session.refresh_from_db(fields=["premise"])
    return _page(
        request,
        "connect/consent.html",
        session=session,
        premise=session.premise,
        customer=customer,
        several=several,
        chart=_tariff_chart(session),
        terms=connect_session_consent_terms(session=session),
        decide_url=reverse("connect:decide", args=[session.public_id]),
        address_url=reverse("connect:address", args=[session.public_id]),
    )


def _tariff_chart(session: ConnectSession) -> Any:
    """The 24-hour price chart of the tariff that would be shared (engineer A's chart)."""
    if session.premise is None:
        return None
    contract = contract_get_active(premise=session.premise, direction=session.direction)
    if contract is None:
        return None
    try:
        return tariff_chart_build(tariff=contract.tariff, id_prefix="consent-chart")
    except Exception:  # a chart is decoration: never let it break consent
        logger.exception("Tariff chart failed for the consent page")
        return None


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
        return _see_other(_step_url(session))
    binding_key = selectors.session_binding_key(session.public_id)
    binding = request.session.get(binding_key)
    action = request.POST.get("action", "login")
    if action == "continue" and request.user.is_authenticated:
        services.connect_session_login(session=session, customer=request.user)
        return _see_other(_step_url(session))
    if action == "switch":
        logout(request)  # flushes the Django session: keep this browser's binding
        request.session[binding_key] = binding
        return _see_other(_step_url(session))
    form = LoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, session, form=form, status=400)
    result = customer_authenticate(
        request=request,
        email=form.cleaned_data["username"],
        password=form.cleaned_data["password"],
    )
    if not result.ok or result.user is None:
        services.connect_session_login_failed(session=session)
        error = login_failed_message()  # one message: no account enumeration
        return _login_page(
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
            next_url=_step_url(session),
            cancel_url=reverse("connect:cancel", args=[session.public_id]),
            cancel_label=_cancel_label(session),
            keep_session_keys=[binding_key, PENDING_LOGIN_KEY.format(public_id=session.public_id)],
        )
    login(request, result.user)  # a new session key; the binding is carried over below
    request.session[binding_key] = binding
    services.connect_session_login(session=session, customer=result.user)
    return _see_other(_step_url(session))


@_post
@_with_session
def address_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    customer = _customer(request, session)
    if session.state != SessionState.OPEN or customer is None:
        return _see_other(_step_url(session))
    if "not_listed" in request.POST:
        session = services.connect_session_decide(
            session=session,
            outcome=Outcome.NO_TARIFF,
            reason="address_not_listed",
            request=request,
        )
        return _finish_response(request, session)
    if "change" in request.POST:
        services.connect_session_premise_forget(session=session)
        return _see_other(_step_url(session))
    premises = list(selectors.connect_session_premises(session=session, customer=customer))
    form = PremiseChoiceForm(request.POST, premises=premises)
    if not form.is_valid():
        return _choose_page(request, session, form, status=400)
    services.connect_session_premise_choose(
        session=session, customer=customer, premise_reference=form.cleaned_data["premise"]
    )
    return _see_other(_step_url(session))


@_post
@_with_session
def decide_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.OPEN:
        customer = _customer(request, session)
        decision = request.POST.get("decision")
        if customer is None or decision not in ("allow", "deny") or session.premise_id is None:
            return _see_other(_step_url(session))
        client = (
            selectors.flatpeak_oauth_client_get() if session.kind == FlowKind.FLATPEAK else None
        )
        if decision == "allow" and session.kind == FlowKind.FLATPEAK and client is None:
            logger.error("FlatPeak's OAuth client (FLATPEAK_OAUTH_CLIENT_ID) is missing")
            return _unavailable(request)
        try:
            session = services.connect_session_decide(
                session=session,
                outcome=Outcome.AUTHORISED if decision == "allow" else Outcome.DECLINED,
                reason="" if decision == "allow" else "customer_declined",
                request=request,
                client=client,
            )
        except services.ConnectDecisionInvalid:
            return _see_other(_step_url(session))
    if session.state != SessionState.DECIDED:
        # Already finished by a concurrent request (double tap): show where it ended.
        session.refresh_from_db()
        if session.state == SessionState.COMPLETED and session.redirect_target:
            return _see_other(session.redirect_target)
        return _see_other(_step_url(session))
    return _finish_response(request, session)


@_post
@_with_session
def no_tariff_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.OPEN and _customer(request, session) is not None:
        session = services.connect_session_decide(
            session=session,
            outcome=Outcome.NO_TARIFF,
            reason="no_active_contract",
            request=request,
        )
    if session.state != SessionState.DECIDED:
        return _see_other(_step_url(session))
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
            request=request,
        )
        return _finish_response(request, session)
    if session.kind == FlowKind.OAUTH and session.state == SessionState.DECIDED:
        return _finish_response(request, session)
    # Expired, or decided but FlatPeak unreachable: give up without a submission.
    session = services.connect_session_abandon(session=session, request=request)
    if session.redirect_target:
        return _see_other(session.redirect_target)
    return _see_other(_step_url(session))


@_post
@_with_session
def retry_submit(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state != SessionState.DECIDED:
        return _see_other(_step_url(session))
    return _finish_response(request, session)
