"""Project-wide views: error pages, the brand stylesheet (probes live in provider_auth/ops)."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Typical cause: the form sat open past the session lifetime, or cookies are blocked.
    return TemplateResponse(request, "errors/csrf.html", status=403)


@require_GET
@cache_control(max_age=300, public=True)
def brand_css(request: HttpRequest) -> HttpResponse:
    """The provider's colour as CSS custom properties (an external sheet: CSP allows no inline)."""
    colour = settings.BRAND_PRIMARY_COLOUR
    if not _HEX_COLOUR.match(colour):
        colour = "#1d4ed8"
    css = f":root {{ --brand: {colour}; }}\n"
    return HttpResponse(css, content_type="text/css; charset=utf-8")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return TemplateResponse(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "errors/500.html", status=500).render()


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return TemplateResponse(request, "errors/400.html", status=400)
