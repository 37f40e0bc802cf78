"""The one client for FlatPeak's API: session context (GET) and decision submission (POST).

Threat: FlatPeak's answers are untrusted input that ends up in our pages and in redirects, and
its credentials and connect tokens must not leak. Every call has a (connect, read) timeout and a
short overall deadline; a POST is retried only with the same `Idempotency-Key`; display text and
links are validated here (https only, http when DEBUG); connect tokens are logged as `cot_…a97`.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings

from provider_auth.flatpeak.errors import (
    FlatPeakError,
    FlatPeakMisconfigured,
    FlatPeakNotFound,
    FlatPeakRejected,
    FlatPeakUnavailable,
)

logger = logging.getLogger(__name__)

CONNECT_TOKEN_RE = re.compile(r"^cot_[0-9a-f]{24}$")
DIRECTIONS = ("IMPORT", "EXPORT")
_FIRST_BACKOFF_SECONDS = 0.2
_MAX_TEXT = 200


def connect_token_is_valid(value: object) -> bool:
    return isinstance(value, str) and bool(CONNECT_TOKEN_RE.match(value))


def connect_token_redact(token: str) -> str:
    """The only form of a connect token allowed in logs and audit: `cot_…a97`."""
    return f"cot_…{token[-3:]}" if token else ""


def url_scheme_allowed(url: str) -> bool:
    """https, or http only when DEBUG; a host is required and user-info is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return False
    del port
    allowed = {"https", "http"} if settings.DEBUG else {"https"}
    return (
        parts.scheme.lower() in allowed
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not any(ch in url for ch in "\r\n\t ")
    )


def url_safe_or_empty(value: object) -> str:
    """A link FlatPeak sent, if it is safe to render; else empty (the link is then omitted)."""
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    value = value.strip()
    return value if url_scheme_allowed(value) else ""


def redirect_host_allowed(url: str) -> bool:
    """True when `url` may receive the browser: allowed scheme and host[:port] in the allowlist.

    Entries of FLATPEAK_REDIRECT_HOSTS are `host` or `host:port`, compared case-insensitively
    with the URL's netloc (`host:port` when a port is present, else `host`).
    """
    if not url or not url_scheme_allowed(url):
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    allowed = {entry.strip().lower() for entry in settings.FLATPEAK_REDIRECT_HOSTS if entry}
    return netloc in allowed


def _text(value: object) -> str:
    if not isinstance(value, str | int):
        return ""
    return " ".join(str(value).split())[:_MAX_TEXT]


@dataclass(frozen=True)
class SessionContext:
    """What FlatPeak told us about a connect session, validated. Unknown fields are dropped."""

    display_name: str
    account_id: str = ""
    logo_url: str = ""
    terms_url: str = ""
    privacy_url: str = ""
    support_url: str = ""
    redirect_uri: str = ""
    connect_web_uri: str = ""
    direction: str = "IMPORT"
    live_mode: bool | None = None
    time_expiry: str = ""

    @classmethod
    def from_api(cls, data: object) -> SessionContext:
        if not isinstance(data, dict):
            raise FlatPeakRejected("session context is not a JSON object")
        account = data.get("account")
        if not isinstance(account, dict):
            account = {}
        display_name = _text(account.get("display_name"))
        if not display_name:
            raise FlatPeakRejected("session context has no account.display_name")
        direction = str(data.get("direction") or "IMPORT").upper()
        if direction not in DIRECTIONS:
            logger.warning("FlatPeak sent an unknown direction; using IMPORT")
            direction = "IMPORT"
        live_mode = data.get("live_mode")
        return cls(
            display_name=display_name,
            account_id=_text(account.get("id")),
            logo_url=url_safe_or_empty(account.get("logo_url")),
            terms_url=url_safe_or_empty(account.get("terms_url")),
            privacy_url=url_safe_or_empty(account.get("privacy_url")),
            support_url=url_safe_or_empty(account.get("support_url")),
            # Kept for audit only; we never send the browser there.
            redirect_uri=_text(data.get("redirect_uri"))
            if isinstance(data.get("redirect_uri"), str)
            else "",
            connect_web_uri=url_safe_or_empty(data.get("connect_web_uri")),
            direction=direction,
            live_mode=live_mode if isinstance(live_mode, bool) else None,
            time_expiry=_text(data.get("time_expiry")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionContext:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class SubmitResult:
    """FlatPeak's acknowledgement of a decision. `redirect_uri` is empty when it sent none."""

    redirect_uri: str


def _record_metric(*, operation: str, result: str, seconds: float) -> None:
    try:
        from provider_auth.ops.metrics import flatpeak_call_observe
    except ImportError:  # the metrics module is optional in minimal deployments
        return
    flatpeak_call_observe(operation=operation, result=result, seconds=seconds)


class FlatPeakClient:
    """FlatPeak's connect API, with Basic auth from FLATPEAK_ACCOUNT_ID / FLATPEAK_API_KEY."""

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.session.auth = (settings.FLATPEAK_ACCOUNT_ID, settings.FLATPEAK_API_KEY)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "provider-auth/1 (+FlatPeak connect)"}
        )

    def _url(self, template: str, connect_token: str) -> str:
        return settings.FLATPEAK_API_URL + template.format(
            connect_token=quote(connect_token, safe="")
        )

    def session_context_get(self, *, connect_token: str) -> SessionContext:
        """GET the session context. Retried with backoff inside FLATPEAK_RETRY_DEADLINE."""
        url = self._url(settings.FLATPEAK_SESSION_PATH, connect_token)
        data = self._call(
            operation="session_get", method="GET", url=url, connect_token=connect_token
        )
        return SessionContext.from_api(data)

    def session_submit(
        self, *, connect_token: str, payload: dict[str, Any], idempotency_key: str
    ) -> SubmitResult:
        """Submit a decision. Retries resend the identical body with the same Idempotency-Key."""
        url = self._url(settings.FLATPEAK_SUBMIT_PATH, connect_token)
        data = self._call(
            operation="submit",
            method=settings.FLATPEAK_SUBMIT_METHOD.upper(),
            url=url,
            connect_token=connect_token,
            json_body=payload,
            headers={"Idempotency-Key": idempotency_key},
            allow_empty=True,
        )
        redirect = data.get("redirect_uri") if isinstance(data, dict) else None
        return SubmitResult(redirect_uri=redirect.strip() if isinstance(redirect, str) else "")

    def _call(
        self,
        *,
        operation: str,
        method: str,
        url: str,
        connect_token: str,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        allow_empty: bool = False,
    ) -> Any:
        started = time.monotonic()
        deadline = started + settings.FLATPEAK_RETRY_DEADLINE
        backoff = _FIRST_BACKOFF_SECONDS
        attempt = 0
        short = connect_token_redact(connect_token)
        while True:
            attempt += 1
            try:
                data = self._attempt(
                    method=method,
                    url=url,
                    json_body=json_body,
                    headers=headers,
                    allow_empty=allow_empty,
                )
            except FlatPeakUnavailable as error:
                wait = max(backoff, getattr(error, "retry_after", 0.0)) * random.uniform(1.0, 1.25)  # noqa: S311
                if time.monotonic() + wait >= deadline:
                    logger.warning(
                        "FlatPeak %s for %s unavailable after %d attempt(s): %s",
                        operation,
                        short,
                        attempt,
                        error,
                    )
                    _record_metric(
                        operation=operation,
                        result="unavailable",
                        seconds=time.monotonic() - started,
                    )
                    raise
                logger.info("FlatPeak %s for %s failed (%s); retrying", operation, short, error)
                time.sleep(wait)
                backoff *= 2
                continue
            except FlatPeakMisconfigured:
                logger.error(
                    "FlatPeak refused our credentials on %s for %s: check FLATPEAK_ACCOUNT_ID, "
                    "FLATPEAK_API_KEY and FLATPEAK_API_URL",
                    operation,
                    short,
                )
                _record_metric(
                    operation=operation, result="misconfigured", seconds=time.monotonic() - started
                )
                raise
            except FlatPeakNotFound:
                logger.info("FlatPeak %s: %s unknown or expired", operation, short)
                _record_metric(
                    operation=operation, result="not_found", seconds=time.monotonic() - started
                )
                raise
            except FlatPeakError as error:
                logger.warning("FlatPeak %s for %s rejected: %s", operation, short, error)
                _record_metric(
                    operation=operation, result="rejected", seconds=time.monotonic() - started
                )
                raise
            _record_metric(operation=operation, result="ok", seconds=time.monotonic() - started)
            return data

    def _attempt(
        self,
        *,
        method: str,
        url: str,
        json_body: dict[str, Any] | None,
        headers: dict[str, str] | None,
        allow_empty: bool,
    ) -> Any:
        timeout = (settings.FLATPEAK_CONNECT_TIMEOUT, settings.FLATPEAK_READ_TIMEOUT)
        try:
            response = self.session.request(
                method,
                url,
                json=json_body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.Timeout as e:
            raise FlatPeakUnavailable("timeout") from e
        except requests.ConnectionError as e:
            raise FlatPeakUnavailable("connection error") from e
        except requests.RequestException as e:
            raise FlatPeakUnavailable(f"request failed: {type(e).__name__}") from e
        status = response.status_code
        try:
            response.raise_for_status()
        except requests.HTTPError as e:
            if status in (401, 403):
                raise FlatPeakMisconfigured(f"HTTP {status}", status=status) from e
            if status in (404, 410):
                raise FlatPeakNotFound(f"HTTP {status}", status=status) from e
            if status == 429 or status >= 500:
                error = FlatPeakUnavailable(f"HTTP {status}", status=status)
                error.retry_after = _retry_after_seconds(response)  # type: ignore[attr-defined]
                raise error from e
            raise FlatPeakRejected(f"HTTP {status}", status=status) from e
        if not 200 <= status < 300:  # 1xx/3xx: we follow no redirects from FlatPeak
            raise FlatPeakRejected(f"HTTP {status}", status=status)
        if allow_empty and not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError as e:
            raise FlatPeakUnavailable("response is not JSON", status=status) from e


def _retry_after_seconds(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), 30.0)
    except ValueError:
        return 0.0
