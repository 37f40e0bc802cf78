"""Browser-facing headers Django does not set itself: CSP, Permissions-Policy.

Threat: injected script or markup (FlatPeak's partner names and links are untrusted text) and
framing of our login page. The CSP allows no inline script or style, no framing, no plugins, and
form submissions only to us and FlatPeak's redirect hosts (Chromium applies form-action to the
redirect that follows our POSTs), and images only from us (partner logos are served same-origin)
or the provider's own BRAND_LOGO host. Django's SecurityMiddleware adds HSTS, nosniff,
Referrer-Policy and COOP from settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
            f"img-src 'self' {_brand_logo_source(brand_logo)}".strip(),
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


def _has_nul(values: Iterable[str]) -> bool:
    return any("\x00" in value for value in values)


def request_has_nul_bytes(request: HttpRequest) -> bool:
    """A NUL anywhere a view may pass input to the database (PostgreSQL refuses it: a 500)."""
    if "\x00" in request.path or "\x00" in request.META.get("HTTP_AUTHORIZATION", ""):
        return True
    # Form bodies only (what views read through request.POST; parsing caches it, and no view
    # reads the raw body of a form). JSON bodies are left to their views.
    form = request.method == "POST" and request.content_type in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    for data in (request.GET, request.POST if form else None):
        if data is None:
            continue
        if _has_nul(data.keys()) or _has_nul(v for values in data.lists() for v in values[1]):
            return True
    return False


class RejectNullBytesMiddleware:
    """Answer 400 to input containing NUL bytes, before any view or query sees it.

    Threat: PostgreSQL text cannot hold NUL, so such input reaching a query raised DataError
    (a 500, found by fuzzing /oauth/authorize on PostgreSQL). No legitimate client sends NUL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refuse = request_has_nul_bytes(request)
        except Exception:  # an unparsable body is the view's (or Django's) 400 to give
            refuse = False
        if refuse:
            return null_byte_response(request)
        return self.get_response(request)


def null_byte_response(request: HttpRequest) -> HttpResponse:
    message = "The request contains a NUL character."
    if request.path.startswith("/oauth/"):
        return JsonResponse({"error": "invalid_request", "error_description": message}, status=400)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "object": "error",
                "type": "invalid_request",
                "code": "invalid_characters",
                "message": message,
            },
            status=400,
        )
    from provider_auth.views import bad_request

    response = bad_request(request)
    return response.render() if hasattr(response, "render") else response
