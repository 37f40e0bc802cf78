"""Browser-facing headers Django does not set itself: CSP, Permissions-Policy."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse


@cache
def content_security_policy() -> str:
    # form-action must list FlatPeak's hosts: Chromium applies it to the 303 after our POSTs.
    redirect_sources = " ".join(
        f"https://{host}" + (f" http://{host}" if settings.DEBUG else "")
        for host in settings.FLATPEAK_REDIRECT_HOSTS
    )
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' https: data:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action 'self' {redirect_sources}".strip(),
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
