"""The sandbox's pages and its FlatPeak API. Every view is a 404 unless SANDBOX_ENABLED.

The API views are csrf-exempt: they are server-to-server, authenticated with HTTP Basic like
FlatPeak's real API. The pages are the device maker's app and FlatPeak's connect-web page.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    RawPostDataException,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from provider_auth.security.middleware import content_security_policy
from sandbox import selectors, services
from sandbox.forms import SandboxConnectForm
from sandbox.models import SandboxSession
from sandbox.personas import PERSONAS

logger = logging.getLogger(__name__)


def sandbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


SANDBOX_KEY_HEADER = "X-Sandbox-Key"


def sandbox_viewer_allowed(request: HttpRequest) -> bool:
    """Who may read the sandbox's records (live connect tokens, outcomes): anyone in the demo
    (DEBUG); with DEBUG off (a staging server) staff, or a caller with SANDBOX_ACCESS_KEY."""
    if settings.DEBUG:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return True
    expected = settings.SANDBOX_ACCESS_KEY
    given = request.headers.get(SANDBOX_KEY_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def sandbox_viewers_only(*, as_json: bool) -> Callable[..., Any]:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if sandbox_viewer_allowed(request):
                return view(request, *args, **kwargs)
            if as_json:
                return JsonResponse(
                    services.error_object(
                        code="forbidden",
                        message=f"Staff only, or send {SANDBOX_KEY_HEADER}: SANDBOX_ACCESS_KEY.",
                    ),
                    status=403,
                )
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied

        return wrapped

    return decorate


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"show_sandbox_banner": True, **context}, status=status)


def _connect_web_url(request: HttpRequest, token: str | None = None, origin: str = "") -> str:
    # On the origin the app was opened on when known, else on the host this request reached.
    path = reverse("sandbox:connect_web")
    url = f"{origin}{path}" if origin else request.build_absolute_uri(path)
    return f"{url}?{urlencode({'fp_cot': token})}" if token else url


def _app_origin(token: str) -> str:
    session = selectors.sandbox_session_get(connect_token=token)
    return session.app_origin if session else ""


def _redirect_303(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# --- The device maker's app -----------------------------------------------------------------
@sandbox_only
@require_http_methods(["GET", "POST"])
@csrf_protect
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """Choose a persona, a direction and a fault; "Connect my tariff" starts a connect session."""
    form = SandboxConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = services.sandbox_session_create(
            persona=form.cleaned_data["persona"],
            direction=form.cleaned_data["direction"],
            fault_context=form.cleaned_data["fault_context"],
            fault_submission=form.cleaned_data["fault_submission"],
            fault_repeats=form.cleaned_data["fault_repeats"] or 1,
            app_origin=f"{request.scheme}://{request.get_host()}",
        )
        # Exactly what FlatPeak does: send the browser to the provider's authentication URI.
        return _redirect_303(
            f"{settings.SANDBOX_AUTH_URI}?{urlencode({'connect_token': session.connect_token})}"
        )
    status = 400 if form.is_bound else 200
    response = _page(
        request,
        "sandbox/index.html",
        {"form": form, "personas": PERSONAS, "auth_uri": settings.SANDBOX_AUTH_URI},
        status=status,
    )
    # Browsers apply form-action to the redirect after our POST: allow our auth URI's origin.
    parts = urlsplit(settings.SANDBOX_AUTH_URI)
    response["Content-Security-Policy"] = content_security_policy().replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}", 1
    )
    return response


@sandbox_only
@require_GET
@never_cache
@sandbox_viewers_only(as_json=False)
def session_list(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "sandbox/sessions.html",
        {"sessions": selectors.sandbox_session_list_recent(), "now": timezone.now()},
    )


def _session_or_404(token: str) -> SandboxSession:
    session = selectors.sandbox_session_get(connect_token=token)
    if session is None:
        raise Http404
    return session


@sandbox_only
@require_GET
@never_cache
def connect_web(request: HttpRequest) -> HttpResponse:
    """FlatPeak's connect-web page: the outcome, then the poller's proof that the tokens work."""
    token = request.GET.get("fp_cot", "")
    if not selectors.connect_token_is_valid(token):
        return _page(request, "sandbox/connect_web_invalid.html", {}, status=400)
    session = _session_or_404(token)
    if session.status == "AUTHORISED" and session.poll_result is None and session.access_token:
        session = services.sandbox_poll(session=session)
    return _page(request, "sandbox/connect_web.html", _connect_web_context(session))


def _connect_web_context(session: SandboxSession) -> dict[str, Any]:
    payload = session.payload or {}
    poll = session.poll_result or {}
    tariff: dict[str, Any] = poll["tariff"] if isinstance(poll.get("tariff"), dict) else {}
    chart = selectors.rates_chart(
        rates=poll.get("rates") or [], timezone_name=str(tariff.get("timezone") or "UTC")
    )
    return {
        "session": session,
        "persona": selectors.sandbox_persona_get(slug=session.persona),
        "payload": payload,
        "auth_data": selectors.payload_masked(payload.get("auth_data")),
        "postal_address": payload.get("postal_address"),
        "contract_term": payload.get("contract_term"),
        "poll": poll,
        "tariff": tariff,
        "tariff_flatpeak_json": json.dumps(poll.get("tariff_flatpeak"), indent=2)
        if poll.get("tariff_flatpeak")
        else "",
        "chart": chart,
        "rates_info": poll.get("rates_info") or {},
        "old_expiry": selectors.datetime_parse(poll.get("old_expiry")),
        "new_expiry": selectors.datetime_parse(poll.get("new_expiry")),
        "summary": selectors.sandbox_session_summary(session=session),
    }


@sandbox_only
@require_POST
@csrf_protect
def poll(request: HttpRequest, token: str) -> HttpResponse:
    session = _session_or_404(token)
    if session.status == "AUTHORISED" and session.access_token:
        services.sandbox_poll(session=session)
    return _redirect_303(_connect_web_url(request, session.connect_token))


@sandbox_only
@require_POST
@csrf_protect
def token_checks(request: HttpRequest, token: str) -> HttpResponse:
    session = _session_or_404(token)
    if session.status == "AUTHORISED" and session.access_token:
        services.sandbox_token_checks_run(session=session)
    return _redirect_303(_connect_web_url(request, session.connect_token) + "#token-checks")


@sandbox_only
@require_GET
@never_cache
@sandbox_viewers_only(as_json=True)
def session_json(request: HttpRequest, token: str) -> HttpResponse:
    """Machine-readable outcome for `flatpeak_check`; tokens masked. With DEBUG off, for staff
    or a caller with SANDBOX_ACCESS_KEY only."""
    session = _session_or_404(token)
    return JsonResponse(selectors.sandbox_session_summary(session=session))


# --- The FlatPeak API -----------------------------------------------------------------------
def _basic_auth_ok(request: HttpRequest) -> bool:
    expected_user, expected_key = settings.FLATPEAK_ACCOUNT_ID, settings.FLATPEAK_API_KEY
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not expected_user or not expected_key:
        return False
    try:
        user, _, key = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Both comparisons always run: no early exit that times which half was wrong.
    user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
    key_ok = hmac.compare_digest(key.encode(), expected_key.encode())
    return user_ok and key_ok


def _api_response(answer: services.ApiAnswer) -> JsonResponse:
    if answer.sleep_seconds:
        time.sleep(answer.sleep_seconds)  # injected fault: bounded in services._sleep_for
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


@csrf_exempt
@sandbox_only
@require_http_methods(["GET", "POST", "PUT", "PATCH"])
@never_cache
def api_session(request: HttpRequest, token: str) -> JsonResponse:
    """`GET` = session context (docs/flatpeak-contract.md §2); FLATPEAK_SUBMIT_METHOD (default `POST`) =
    decision submission (docs/flatpeak-contract.md §4). The sandbox follows our settings, as FlatPeak's real API
    would be configured to match."""
    if not _basic_auth_ok(request):
        logger.warning("sandbox API: rejected credentials")
        response = JsonResponse(
            services.error_object(code="unauthorized", message="Invalid API credentials."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Basic realm="FlatPeak sandbox"'
        return response
    if request.method == "GET":
        answer = services.sandbox_context_serve(
            token=token,
            account=_account_or_empty(request, token),
            auth_uri=settings.SANDBOX_AUTH_URI,
            connect_web_uri=_connect_web_url(request, origin=_app_origin(token)),
        )
        return _api_response(answer)
    if request.method != settings.FLATPEAK_SUBMIT_METHOD.upper():
        response = JsonResponse(
            services.error_object(
                code="method_not_allowed",
                message=f"Submit with {settings.FLATPEAK_SUBMIT_METHOD.upper()}.",
            ),
            status=405,
        )
        response["Allow"] = f"GET, {settings.FLATPEAK_SUBMIT_METHOD.upper()}"
        return response
    if request.content_type != "application/json":
        # FlatPeak's API takes JSON only; reading a form body as JSON would fail anyway (and a
        # multipart one cannot be read as raw bytes once parsed).
        return JsonResponse(
            services.error_object(
                code="unsupported_media_type", message="Send the body as application/json."
            ),
            status=415,
        )
    try:
        payload: Any = json.loads(request.body)
    except RawPostDataException:
        payload = None
    except RequestDataTooBig:
        return JsonResponse(
            services.error_object(code="body_too_large", message="The body is too large."),
            status=413,
        )
    except (ValueError, UnicodeDecodeError):
        payload = None
    answer = services.sandbox_submission_receive(
        token=token,
        payload=payload,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        redirect_uri=_connect_web_url(request, token, origin=_app_origin(token)),
    )
    return _api_response(answer)


def _account_or_empty(request: HttpRequest, token: str) -> dict[str, Any]:
    session = selectors.sandbox_session_get(connect_token=token)
    return selectors.sandbox_account_for(session=session, request=request) if session else {}
