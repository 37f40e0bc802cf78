"""Method handling for the machine-facing read-only endpoints (`/api/`, `/.well-known/`).

They answer GET and HEAD (a HEAD runs the GET view; the WSGI server drops the body and keeps the
headers, RFC 9110 §9.3.2) and every other method with a 405 in the API's JSON error shape,
carrying `Allow`. They are exempt from CSRF: nothing on them reads a cookie (the `/api/` paths
skip sessions and users altogether, see `middleware`), so there is no ambient credential to
forge with, and CSRF's 403 page would otherwise answer a client's POST before the 405 could.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from provider_auth.tariff_api import errors

READ_METHODS = ("GET", "HEAD")


def read_only_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD reach `view`; any other method gets a JSON 405 with `Allow`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in READ_METHODS:
            return errors.method_not_allowed(READ_METHODS).response()
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under `/api/` that no endpoint serves, whatever the method: a JSON 404."""
    return errors.not_found().response()
