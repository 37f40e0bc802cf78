"""Connected apps: the logged-in customer's grants, and revoking one (confirm, then POST)."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from provider_auth.connected_apps.selectors import (
    grant_get_active_for_customer,
    grant_shared_description,
)
from provider_auth.consent.selectors import grant_list_for_customer
from provider_auth.oauth.services import grant_revoke


def _customer(request: HttpRequest) -> User:
    """The logged-in customer (views below are all behind login_required)."""
    return cast(User, request.user)


@never_cache
@login_required
@require_GET
def connected_app_list(request: HttpRequest) -> HttpResponse:
    active, ended = grant_list_for_customer(customer=_customer(request))
    grants = [{"grant": grant, "shared": grant_shared_description(grant=grant)} for grant in active]
    return render(
        request,
        "connected_apps/list.html",
        {"grants": grants, "history": ended, "revoked": request.GET.get("revoked") == "1"},
    )


@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def connected_app_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = grant_get_active_for_customer(customer=_customer(request), grant_id=grant_id)
    if grant is None:
        if request.method == "POST":
            # Already revoked (double submit, second tab): the outcome the customer wanted.
            return HttpResponseRedirect(reverse("connected_apps:list") + "?revoked=1", status=303)
        raise Http404
    if request.method == "POST":
        grant_revoke(grant=grant, reason="customer", actor=_customer(request))
        return HttpResponseRedirect(reverse("connected_apps:list") + "?revoked=1", status=303)
    return render(
        request,
        "connected_apps/revoke_confirm.html",
        {"grant": grant, "shared": grant_shared_description(grant=grant)},
    )
