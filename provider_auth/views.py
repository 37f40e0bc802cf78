"""Project-wide views: error pages, the brand stylesheet (probes live in provider_auth/ops)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from provider_auth import branding


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Typical cause: the form sat open past the session lifetime, or cookies are blocked.
    return TemplateResponse(request, "errors/csrf.html", status=403)


@require_GET
@cache_control(max_age=86400, public=True)
def brand_css(request: HttpRequest) -> HttpResponse:
    """The provider's colours as CSS custom properties (an external sheet: CSP allows no inline).

    Pages link it with `?v=<brand.css_version>`, so a new colour reaches browsers at once.
    """
    css = branding.brand_stylesheet(brand=branding.brand_get())
    return HttpResponse(css, content_type="text/css; charset=utf-8")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return TemplateResponse(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "errors/500.html", status=500).render()


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return TemplateResponse(request, "errors/400.html", status=400)
