"""The provider's own account site: log in, log out, and the customer's premises and tariffs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm
from accounts.selectors import premise_overview_list


class SeeOther(HttpResponseRedirect):
    status_code = 303


def _safe_next(request: HttpRequest) -> str:
    """The `next` path when it stays on this site, else the account home (no open redirect)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and candidate.startswith("/")
        and not candidate.startswith("//")
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return SeeOther(_safe_next(request))
    form = LoginForm(request.POST or None)
    login_error = ""
    if request.method == "POST" and form.is_valid():
        # The one line a hardened login service replaces (lockouts, OTP, timing).
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            login(request, user)  # rotates the session key
            return SeeOther(_safe_next(request))
        login_error = _("The email or password is not right. Check both and try again.")
    return render(
        request,
        "accounts/login.html",
        {"form": form, "login_error": login_error, "next": _safe_next(request)},
    )


@require_POST
@csrf_protect
@never_cache
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return SeeOther(resolve_url("accounts:login"))


@login_required
@never_cache
@require_http_methods(["GET"])
def home_view(request: HttpRequest) -> HttpResponse:
    overview = premise_overview_list(customer=request.user)  # type: ignore[arg-type]
    return render(request, "accounts/home.html", {"premises": overview})
