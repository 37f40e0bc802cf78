"""The sandbox acting as FlatPeak's poller: it calls our tariff API and token endpoint over HTTP.

Threat: the endpoints come from a submission body, so a careless poller could be pointed at any
host (server-side request forgery). It only ever calls URLs on the origin of PUBLIC_BASE_URL —
the provider this sandbox plays FlatPeak for — with a (connect, read) timeout on every call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from accounts.timefmt import rfc3339

TIMEOUT = (3.05, 10.0)


class PollerRefused(Exception):
    """The URL is not on our own origin; the poller will not call it."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any  # parsed JSON, or the first 200 characters of a non-JSON body
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def url_is_own_origin(url: str) -> bool:
    return _origin(url) == _origin(settings.PUBLIC_BASE_URL)


def _answer(response: requests.Response) -> HttpAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:200]
    return HttpAnswer(status=response.status_code, body=body, headers=dict(response.headers))


def http_get(*, url: str, access_token: str, params: dict[str, str] | None = None) -> HttpAnswer:
    if not url_is_own_origin(url):
        raise PollerRefused(url)
    response = requests.get(
        url,
        params=params,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    return _answer(response)


def token_refresh(*, token_endpoint: str, refresh_token: str, client_id: str) -> HttpAnswer:
    """RFC 6749 §6 with client_secret_basic, as FlatPeak's workers would do it."""
    if not url_is_own_origin(token_endpoint):
        raise PollerRefused(token_endpoint)
    response = requests.post(
        token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client_id, settings.SANDBOX_OAUTH_CLIENT_SECRET),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    return _answer(response)


def rates_window(*, now: dt.datetime) -> dict[str, str]:
    """The next 24 hours from the start of the current hour, RFC 3339 UTC."""
    start = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(hours=24)
    return {
        "start_time": rfc3339(start),
        "end_time": rfc3339(end),
    }


def rates_url(tariff_endpoint: str) -> str:
    return tariff_endpoint.rstrip("/") + "/rates"
