"""The admin site, entered only through the customers' hardened login.

Threat: Django's own admin login checks a password and nothing else (no emailed one-time code, no
per-IP or per-account ceilings), yet a staff session is the strongest one on the site and can
switch a customer's code off. Here the admin's login view never authenticates: GET or POST, it
sends the browser to the account login, with `next` back into the admin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from provider_auth.security.otp import safe_next_path


class ProviderAdminSite(admin.AdminSite):
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        index = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(index, status=303)
            # A customer's session: the login would send it straight back here (a loop).
            raise PermissionDenied
        wanted = request.GET.get(REDIRECT_FIELD_NAME) or ""
        next_path = safe_next_path(wanted) if wanted.startswith(index) else index
        query = urlencode({REDIRECT_FIELD_NAME: next_path})
        return HttpResponseRedirect(f"{reverse('accounts:login')}?{query}", status=303)
