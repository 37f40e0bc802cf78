"""Browser-only middleware stands aside on the bearer-token JSON API.

`/api/` requests authenticate with a Bearer token on every call, set no cookie and render no
page. Sessions, the session-timeout check, the logged-in user, flash messages and locale
negotiation have nothing to do there, yet ran on
FlatPeak's most frequent request (~0.1 ms of CPU of a ~1 ms poll, measured with
benchmarks/tariff_service_time.py). Each class below is Django's (or ours) unchanged for every
other path, so browser pages keep all of it.

What still runs on `/api/`: request ids, host validation and HTTPS redirect (SecurityMiddleware),
security headers, CommonMiddleware, CSRF (which the API's views are exempt from: they read no
cookie, and answer any method but GET and HEAD with a JSON 405, see `methods`), X-Frame-Options and
axes (its system check wants its
own class, and it costs nothing measurable on a request that logs nobody in).

The benchmarks' `/bench/` ceilings take the same stack through their own subclasses
(`benchmarks/middleware.py`, selected by the benchmark settings); production knows no `/bench/`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.common import CommonMiddleware as _CommonMiddleware
from django.middleware.locale import LocaleMiddleware as _LocaleMiddleware

from provider_auth.security.session import SessionTimeoutMiddleware as _SessionTimeoutMiddleware

API_PATH_PREFIXES = ("/api/",)
# The OAuth endpoints called server-to-server with client credentials (HTTP Basic or the form
# body), never with cookies: the same reasoning holds. Exact paths: /oauth/authorize is a
# browser page and keeps every middleware. (With no LocaleMiddleware, the OAuth front door
# answers in LANGUAGE_CODE.)
OAUTH_CLIENT_PATHS = frozenset({"/oauth/token", "/oauth/revoke", "/oauth/introspect"})


def path_is_api(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES) or path in OAUTH_CLIENT_PATHS


class _BrowserOnly:
    get_response: Any

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if path_is_api(request.path_info):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_BrowserOnly, _SessionMiddleware):
    pass


class LocaleMiddleware(_BrowserOnly, _LocaleMiddleware):
    pass


class AuthenticationMiddleware(_BrowserOnly, _AuthenticationMiddleware):
    pass


class SessionTimeoutMiddleware(_BrowserOnly, _SessionTimeoutMiddleware):
    pass


class MessageMiddleware(_BrowserOnly, _MessageMiddleware):
    pass


class CommonMiddleware(_CommonMiddleware):
    """Django's, for every path, except that a 304 keeps the headers its view gave it.

    Django adds `Content-Length: 0` to every body-less response. On a 304 that is a falsehood
    about the stored 200 it stands for (RFC 9110 §8.6 allows only the 200's own length), and a
    cache that merges a 304's headers into its stored response (requests-cache does) then
    serves that response with an empty body.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code == HTTPStatus.NOT_MODIFIED:
            return response
        return super().process_response(request, response)
