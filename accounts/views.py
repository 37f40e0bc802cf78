"""The provider's own account site: log out, and the customer's premises and tariffs.

Logging in is provider_auth.security's hardened login (lockouts, ceilings, the emailed code),
mounted as `accounts:login`.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import premise_overview_list
from accounts.sources.base import SupplyAccountNotFound, TariffSourceError


class SeeOther(HttpResponseRedirect):
    status_code = 303


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
    try:
        overview = premise_overview_list(customer=request.user)  # type: ignore[arg-type]
    except SupplyAccountNotFound:
        overview = []
    except TariffSourceError:
        # The billing platform is down: the page still works, and says so.
        return render(request, "accounts/home.html", {"premises": [], "source_unavailable": True})
    return render(request, "accounts/home.html", {"premises": overview})
