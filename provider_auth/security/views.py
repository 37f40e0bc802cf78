"""Security pages: the one-time-code step, and the customer's security settings."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm
from accounts.models import User
from provider_auth.security import otp
from provider_auth.security.forms import OneTimeCodeForm, OtpPreferenceForm
from provider_auth.security.login import customer_authenticate
from provider_auth.security.ratelimit import auth_uri_limit, key_ip, rate_limit
from provider_auth.security.services import user_otp_preference_set
from provider_auth.security.session import user_logout_everywhere


def _otp_context(request: HttpRequest, challenge: dict | None, **extra: object) -> dict:
    challenge = challenge or {}
    return {
        "cancel_url": challenge.get("cancel", ""),
        "cancel_label": challenge.get("cancel_label", ""),
        "can_resend": challenge.get("resends", 0) < otp.OTP_MAX_RESENDS,
        **extra,
    }


def _customer(request: HttpRequest) -> User:
    """The logged-in customer (views below are all behind login_required)."""
    return cast(User, request.user)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit(key_ip, 30, 60, scope="otp_verify:ip", html=True)
def otp_verify(request: HttpRequest) -> HttpResponse:
    challenge = otp.otp_challenge_get(request=request)
    if challenge is None:
        return render(request, "security/otp_expired.html", status=400)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = otp.otp_challenge_verify(request=request, code=form.cleaned_data["code"])
        if result.outcome == otp.VerifyOutcome.OK:
            return HttpResponseRedirect(result.next_url, status=303)
        if result.outcome != otp.VerifyOutcome.WRONG:
            context = _otp_context(request, challenge, outcome=result.outcome)
            return render(request, "security/otp_failed.html", context, status=400)
        form.add_error("code", otp.wrong_code_message(attempts_left=result.attempts_left))
    status = 400 if form.is_bound else 200
    context = _otp_context(request, challenge, form=form)
    return render(request, "security/otp.html", context, status=status)


@csrf_protect
@never_cache
@require_POST
def otp_resend(request: HttpRequest) -> HttpResponse:
    if not otp.otp_challenge_resend(request=request):
        challenge = otp.otp_challenge_get(request=request)
        if challenge is None:
            return render(request, "security/otp_expired.html", status=400)
    return HttpResponseRedirect(reverse("security:otp_verify") + "?sent=1", status=303)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def security_settings(request: HttpRequest) -> HttpResponse:
    form = OtpPreferenceForm(
        request.POST or None,
        user=_customer(request),
        initial={"enabled": _customer(request).requires_email_otp},
    )
    if request.method == "POST" and form.is_valid():
        user_otp_preference_set(
            user=_customer(request), enabled=form.cleaned_data["enabled"], request=request
        )
        return HttpResponseRedirect(reverse("security:settings") + "?saved=1", status=303)
    return render(
        request,
        "security/settings.html",
        {"form": form, "saved": request.GET.get("saved") == "1"},
        status=400 if form.is_bound else 200,
    )


@csrf_protect
@never_cache
@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    user_logout_everywhere(user=_customer(request), request=request)
    logout(request)
    return HttpResponseRedirect(reverse("security:logged_out"), status=303)


@never_cache
@require_http_methods(["GET"])
def logged_out(request: HttpRequest) -> HttpResponse:
    return render(request, "security/logged_out.html")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit(key_ip, auth_uri_limit, 60, scope="account_login:ip", html=True)
def account_login(request: HttpRequest) -> HttpResponse:
    """The account site's login (/account/login/), served here so it gets the hardened service.

    `accounts` may not import `provider_auth`, so this view is routed before the `accounts`
    URLs and takes over the same path and template: lockouts and ceilings, one hash on every
    path, and the emailed one-time code for customers who switched it on.
    """
    next_url = otp.safe_next_path(request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(next_url, status=303)
    form = LoginForm(request.POST or None)
    login_error = ""
    if request.method == "POST" and form.is_valid() and settings.LOCAL_LOGIN_ENABLED:
        result = customer_authenticate(
            request=request,
            email=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if result.ok and result.user is not None:
            if result.needs_otp:
                return otp.otp_challenge_start(request=request, user=result.user, next_url=next_url)
            login(request, result.user)  # renews the session key
            return HttpResponseRedirect(next_url, status=303)
        login_error = otp.login_failed_message()
        form = LoginForm(initial={"username": form.cleaned_data["username"]})
    context = {"form": form, "login_error": login_error, "next": next_url}
    status = 401 if login_error else (400 if form.is_bound and form.errors else 200)
    return render(request, "accounts/login.html", context, status=status)
