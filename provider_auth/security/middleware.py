"""Browser-facing headers Django does not set itself: CSP, Permissions-Policy.

Threat: injected script or markup (FlatPeak's partner names and links are untrusted text) and
framing of our login page. The CSP allows no inline script or style, no framing, no plugins, and
form submissions only to us and FlatPeak's redirect hosts (Chromium applies form-action to the
redirect that follows our POSTs), and images only from us (partner logos are served same-origin)
or the provider's own BRAND_LOGO host. Django's SecurityMiddleware adds HSTS, nosniff,
Referrer-Policy and COOP from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy() -> str:
    return _content_security_policy(
        settings.DEBUG,
        tuple(settings.FLATPEAK_REDIRECT_HOSTS),
        getattr(settings, "BRAND_LOGO", ""),
    )


def _host_is_safe(host: str) -> bool:
    # A host is spliced into a header: keep only characters a host[:port] can have.
    return bool(host) and all(c.isalnum() or c in ".-:[]" for c in host)


def _brand_logo_source(brand_logo: str) -> str:
    """The origin of BRAND_LOGO when it is an https URL (the provider's own CDN); else empty."""
    if not brand_logo.startswith("https://"):
        return ""
    host = urlsplit(brand_logo).netloc
    return f"https://{host}" if _host_is_safe(host) and "@" not in host else ""


@lru_cache(maxsize=8)
def _content_security_policy(
    debug: bool, redirect_hosts: tuple[str, ...], brand_logo: str = ""
) -> str:
    # form-action must list FlatPeak's hosts: Chromium applies it to the 303 after our POSTs.
    safe_hosts = [h for h in redirect_hosts if _host_is_safe(h)]
    redirect_sources = " ".join(
        f"https://{host}" + (f" http://{host}" if debug else "") for host in safe_hosts
    )
    return "; ".join(
        [
            "default-src 'self'",
            # Partner logos are fetched server-side and served by us: no third-party images.
            f"img-src 'self' data: {_brand_logo_source(brand_logo)}".strip(),
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
