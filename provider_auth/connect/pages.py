"""The pages of the connect flow: how each step and each refusal is rendered.

Every builder only reads: it renders a template for a session as it is, with the partner's
name and links, a Cancel control while there is a flow to cancel, and never upstream text or a
stack trace. Deciding which page a request gets is the views' job.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.forms import LoginForm
from accounts.models import Premise, User
from accounts.selectors import contract_overview_get
from accounts.sources import tariff_source
from provider_auth.connect import selectors
from provider_auth.connect.forms import PremiseChoiceForm
from provider_auth.connect.models import ConnectSession, FlowKind, SessionState
from provider_auth.connect.submission import SubmissionError
from provider_auth.consent.selectors import connect_session_consent_terms
from provider_auth.security.middleware import content_security_policy

logger = logging.getLogger(__name__)

_CSP_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*:(//[A-Za-z0-9.\-]+(:[0-9]{1,5})?)?")


# --- Responses ----------------------------------------------------------------------------
def see_other(location: str) -> HttpResponse:
    # A bare 303: targets come from FlatPeak's API (host-checked) or a client's registered
    # redirect URI (possibly a custom scheme, which HttpResponseRedirect would refuse).
    response = HttpResponse(status=303)
    response["Location"] = location
    return response


def step_url(session: ConnectSession) -> str:
    return reverse("connect:step", args=[session.public_id])


def cancel_url(session: ConnectSession) -> str:
    return reverse("connect:cancel", args=[session.public_id])


def cancel_label(session: ConnectSession) -> str:
    if session.kind == FlowKind.OAUTH:
        return _("Cancel and return to %(name)s") % {"name": session.flatpeak_account_name}
    return _("Cancel and enter my tariff another way")


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


def page(
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
            context["cancel_url"] = cancel_url(session)
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


# --- Messages: a title, a sentence, and where to go from here -------------------------------
def message(
    request: HttpRequest,
    *,
    title: str,
    text: str,
    status: int,
    session: ConnectSession | None = None,
    **extra: Any,
) -> HttpResponse:
    return page(
        request,
        "connect/message.html",
        session=session,
        status=status,
        title=title,
        text=text,
        **extra,
    )


def invalid_link(request: HttpRequest, status: int = 400) -> HttpResponse:
    return message(
        request,
        title=_("This link is not valid"),
        text=_(
            "The address you followed is incomplete or damaged. Go back to the app and "
            "start connecting your tariff again."
        ),
        status=status,
    )


def invalid_authorization(request: HttpRequest) -> HttpResponse:
    """`/oauth/authorize` from an unknown client or with an unregistered redirect URI."""
    return message(
        request,
        title=_("This sign-in link is not valid"),
        text=_(
            "The app that sent you here is not registered with us, or sent you with a "
            "wrong address. Nothing was shared. Go back to the app."
        ),
        status=400,
    )


def expired(request: HttpRequest, session: ConnectSession | None = None) -> HttpResponse:
    return message(
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


def unavailable(request: HttpRequest, *, retry_url: str = "", status: int = 503) -> HttpResponse:
    return message(
        request,
        title=_("This service is temporarily unavailable"),
        text=_(
            "We could not reach the service that connects your app. Please try again in a moment."
        ),
        status=status,
        retry_url=retry_url,
    )


def source_unavailable(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    """The billing platform behind the tariff source cannot answer: Try again, or Cancel."""
    return message(
        request,
        title=_("This service is temporarily unavailable"),
        text=_(
            "We could not reach our billing system to find your tariff. Nothing was shared. "
            "Please try again in a moment."
        ),
        status=503,
        session=session,
        retry_url=step_url(session),
    )


def elsewhere(request: HttpRequest) -> HttpResponse:
    return message(
        request,
        title=_("This link was opened in another browser"),
        text=_(
            "For your security, a connection link works only in the browser that opened it "
            "first. Return to the app and start again from there."
        ),
        status=403,
    )


def finished(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if session.state == SessionState.FAILED:
        if session.last_submission_error == SubmissionError.TOKEN_EXPIRED:
            return expired(request)
        return message(
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
        return message(
            request,
            title=_("We cannot send you back automatically"),
            text=_(
                "Your choice was recorded, but we could not send you back to the app. "
                "Please return to the app yourself."
            ),
            status=502,
            session=session,
        )
    return message(
        request,
        title=_("You have already finished here"),
        text=_("Your choice was recorded. Return to the app to continue."),
        status=200,
        session=session,
        return_url=selectors.connect_session_redirect_target(session=session),
    )


def used(request: HttpRequest) -> HttpResponse:
    """A finished flow seen from a browser that did not open it: nothing of it is shown (no
    partner, no outcome, no way back carrying the connect token)."""
    return message(
        request,
        title=_("This link has already been used"),
        text=_(
            "For your security, a connection link works only once and only in the browser "
            "that opened it. Return to the app and start again from there."
        ),
        status=410,
    )


def finished_or_used(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    if not selectors.connect_session_is_bound(session=session, request=request):
        return used(request)
    return finished(request, session)


# --- The steps of the flow ------------------------------------------------------------------
def retry_page(request: HttpRequest, session: ConnectSession) -> HttpResponse:
    """Decided, not yet delivered: the choice is kept and "Try again" resends it."""
    return page(
        request,
        "connect/retry.html",
        session=session,
        status=503,
        retry_url=reverse("connect:retry", args=[session.public_id]),
    )


def login_page(
    request: HttpRequest,
    session: ConnectSession,
    *,
    form: LoginForm,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return page(
        request,
        "connect/login.html",
        session=session,
        status=status,
        form=form,
        login_error=error,
        current_user=request.user if request.user.is_authenticated else None,
        action_url=reverse("connect:login", args=[session.public_id]),
    )


def no_tariff_page(request: HttpRequest, session: ConnectSession, customer: User) -> HttpResponse:
    return page(
        request,
        "connect/no_tariff.html",
        session=session,
        customer=customer,
        no_tariff_url=reverse("connect:no_tariff", args=[session.public_id]),
    )


def choose_page(
    request: HttpRequest, session: ConnectSession, form: PremiseChoiceForm, status: int = 200
) -> HttpResponse:
    return page(
        request,
        "connect/choose_address.html",
        session=session,
        status=status,
        form=form,
        action_url=reverse("connect:address", args=[session.public_id]),
    )


def consent_page(
    request: HttpRequest,
    session: ConnectSession,
    customer: User,
    *,
    premise: Premise,
    several: bool,
) -> HttpResponse:
    return page(
        request,
        "connect/consent.html",
        session=session,
        premise=premise,
        customer=customer,
        several=several,
        chart=_tariff_chart(session, customer, premise),
        terms=connect_session_consent_terms(session=session),
        decide_url=reverse("connect:decide", args=[session.public_id]),
        address_url=reverse("connect:address", args=[session.public_id]),
    )


def _tariff_chart(session: ConnectSession, customer: User, premise: Premise) -> Any:
    """The 24-hour price chart of the tariff that would be shared, as the tariff source has it."""
    try:
        overview = contract_overview_get(
            source=tariff_source(),
            customer=customer,
            premise=premise,
            direction=session.direction,
            at=timezone.now(),
            id_prefix="consent-chart",
        )
    except Exception:  # a chart is decoration: never let it break consent
        logger.exception("Tariff chart failed for the consent page")
        return None
    return None if overview is None else overview.chart
