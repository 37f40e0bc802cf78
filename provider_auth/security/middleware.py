"""Browser-facing headers Django does not set itself: CSP, Permissions-Policy.

Threat: injected script or markup (FlatPeak's partner names and links are untrusted text) and
framing of our login page. The CSP allows no inline script or style, no framing, no plugins, and
form submissions only to us and FlatPeak's redirect hosts (Chromium applies form-action to the
redirect that follows our POSTs). Django's SecurityMiddleware adds HSTS, nosniff,
Referrer-Policy and COOP from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy() -> str:
    return _content_security_policy(settings.DEBUG, tuple(settings.FLATPEAK_REDIRECT_HOSTS))


@lru_cache(maxsize=8)
def _content_security_policy(debug: bool, redirect_hosts: tuple[str, ...]) -> str:
    # form-action must list FlatPeak's hosts: Chromium applies it to the 303 after our POSTs.
    # A host is spliced into a header: keep only characters a host[:port] can have.
    safe_hosts = [h for h in redirect_hosts if h and all(c.isalnum() or c in ".-:[]" for c in h)]
    redirect_sources = " ".join(
        f"https://{host}" + (f" http://{host}" if debug else "") for host in safe_hosts
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
