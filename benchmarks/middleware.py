"""The tariff API's browser-only middleware, standing aside on `/bench/` as well as on `/api/`.

The ceilings are compared with the bearer-token API, so they must take the API's middleware
stack: no sessions, users, messages or locale. `benchmarks.settings` swaps these in for the
production classes; everything else about them is the production code.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from provider_auth.tariff_api import middleware

BENCH_PREFIX = "/bench/"


class _AlsoOnBench:
    get_response: Any

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(BENCH_PREFIX):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_AlsoOnBench, middleware.SessionMiddleware):
    pass


class LocaleMiddleware(_AlsoOnBench, middleware.LocaleMiddleware):
    pass


class AuthenticationMiddleware(_AlsoOnBench, middleware.AuthenticationMiddleware):
    pass


class SessionTimeoutMiddleware(_AlsoOnBench, middleware.SessionTimeoutMiddleware):
    pass


class MessageMiddleware(_AlsoOnBench, middleware.MessageMiddleware):
    pass
