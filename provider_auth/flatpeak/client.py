"""The one client for FlatPeak's API: session context (GET) and decision submission (POST).

Threat: FlatPeak's answers are untrusted input that ends up in our pages, our database and in
redirects, and its credentials and connect tokens must not leak; a slow or hostile FlatPeak must
not hold a customer's request (and a server thread) for longer than FLATPEAK_RETRY_DEADLINE. A
call's attempts, backoff sleeps and body reads all share that one deadline (a watchdog shuts the
socket down when it passes); a POST is retried only with the same `Idempotency-Key`; display text
and links are validated here (https only, http when DEBUG; no control characters, lone surrogates
or characters that turn ASCII under case folding); connect tokens are logged as `cot_…a97`.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

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
# FlatPeak's answers are a few hundred bytes; a larger body is not an answer we can use.
_MAX_BODY = 256 * 1024
_BODY_CHUNK = 4096
# Bidirectional controls reorder what a customer reads ("Heatly‮ evil") and are never needed
# in a device maker's name: stripped.
_BIDI_CONTROLS = dict.fromkeys(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_ORDINARY_WHITESPACE = frozenset("\t\n\r")


def text_is_hostile(value: str) -> bool:
    """True for text that no FlatPeak field may carry: NUL and other control characters, line or
    paragraph separators and lone surrogates (PostgreSQL, JSON and HTTP headers choke on them)."""
    return any(
        unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") and ch not in _ORDINARY_WHITESPACE
        for ch in value
    )


def _folds_to_ascii(ch: str) -> bool:
    """A non-ASCII character that case folding or NFKC turns into ASCII (U+212A KELVIN SIGN is
    `k`, U+017F LONG S is `s`): a host check that lower-cases would accept a look-alike."""
    if ch.isascii():
        return False
    forms = (ch.lower(), ch.casefold(), unicodedata.normalize("NFKC", ch))
    return any(any(c.isascii() for c in form) for form in forms)


def url_is_hostile(value: str) -> bool:
    """A link or redirect FlatPeak sent that must be refused outright, not merely dropped."""
    return text_is_hostile(value) or any(_folds_to_ascii(ch) for ch in value)


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
        # Printable ASCII only: no whitespace or controls, no IDN look-alikes (an allowed
        # internationalised host is listed in its xn-- form).
        and all("!" <= ch <= "~" for ch in url)
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
    return " ".join(str(value).translate(_BIDI_CONTROLS).split())[:_MAX_TEXT]


def _strings(data: object) -> list[str]:
    """Every string (keys included) in a decoded JSON value."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(data, list):
        return [s for item in data for s in _strings(item)]
    return []


_LINK_FIELDS = ("logo_url", "terms_url", "privacy_url", "support_url")


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
        # Refused whole rather than cleaned: such a context is broken or hostile, and a name or
        # link carrying these characters would reach our pages, our database and the audit trail.
        if any(text_is_hostile(text) for text in _strings(data)):
            raise FlatPeakRejected("session context contains control characters")
        account = data.get("account")
        links = [account.get(k) for k in _LINK_FIELDS] if isinstance(account, dict) else []
        links += [data.get("redirect_uri"), data.get("connect_web_uri")]
        if any(isinstance(link, str) and url_is_hostile(link) for link in links):
            raise FlatPeakRejected("session context has a link with look-alike characters")
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


# --- The overall deadline -------------------------------------------------------------------
# requests' timeouts bound each socket operation, not a call: a server that trickles a byte
# just inside the read timeout (in the headers or the body) would hold us for ever. Every
# connection this client opens registers its socket with the thread's current watch; when the
# call's deadline passes, the watch shuts the socket down, which wakes the blocked read.
_current = threading.local()


class _Watch:
    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.lock = threading.Lock()

    def register(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self.lock:
            if self.expired:
                _socket_shutdown(sock)
            else:
                self.sockets.append(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                _socket_shutdown(sock)


def _socket_shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def _watch_register(sock: socket.socket | None) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.register(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch_register(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:  # a reused keep-alive connection
        _watch_register(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch_register(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_register(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[assignment]
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class FlatPeakClient:
    """FlatPeak's connect API, with Basic auth from FLATPEAK_ACCOUNT_ID / FLATPEAK_API_KEY."""

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.session.mount("https://", _DeadlineAdapter())
        self.session.mount("http://", _DeadlineAdapter())
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
        """Submit a decision. Retries resend the identical body with the same Idempotency-Key.

        The `redirect_uri` is returned as sent (trimmed of spaces only): the caller's host
        check refuses anything with control or look-alike characters.
        """
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
        # Only spaces are trimmed: any other whitespace or control character stays, so the
        # caller's host check refuses the address instead of sending the browser to a
        # cleaned-up guess of it.
        return SubmitResult(redirect_uri=redirect.strip(" ") if isinstance(redirect, str) else "")

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
                    deadline=deadline,
                )
            except FlatPeakUnavailable as error:
                wait = max(backoff, getattr(error, "retry_after", 0.0)) * random.uniform(1.0, 1.25)  # noqa: S311
                attempts_left = (
                    not settings.FLATPEAK_MAX_ATTEMPTS or attempt < settings.FLATPEAK_MAX_ATTEMPTS
                )
                if not attempts_left or time.monotonic() + wait >= deadline:
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
        deadline: float,
    ) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FlatPeakUnavailable("deadline passed")
        timeout = (
            min(settings.FLATPEAK_CONNECT_TIMEOUT, remaining),
            min(settings.FLATPEAK_READ_TIMEOUT, remaining),
        )
        watch = _Watch()
        timer = threading.Timer(remaining, watch.expire)
        timer.daemon = True
        _current.watch = watch
        timer.start()
        try:
            status, body, response = self._exchange(
                method=method,
                url=url,
                json_body=json_body,
                headers=headers,
                timeout=timeout,
                deadline=deadline,
            )
        except requests.RequestException as e:
            if watch.expired:
                raise FlatPeakUnavailable("deadline passed") from e
            if isinstance(e, requests.Timeout):
                raise FlatPeakUnavailable("timeout") from e
            if isinstance(e, requests.ConnectionError):
                raise FlatPeakUnavailable("connection error") from e
            raise FlatPeakUnavailable(f"request failed: {type(e).__name__}") from e
        finally:
            timer.cancel()
            _current.watch = None
        if watch.expired:  # a shut-down socket reads as a (short) end of the answer: not one
            raise FlatPeakUnavailable("deadline passed")
        if status in (401, 403):
            raise FlatPeakMisconfigured(f"HTTP {status}", status=status)
        if status in (404, 410):
            raise FlatPeakNotFound(f"HTTP {status}", status=status)
        if status == 429 or status >= 500:
            error = FlatPeakUnavailable(f"HTTP {status}", status=status)
            error.retry_after = _retry_after_seconds(response)  # type: ignore[attr-defined]
            raise error
        if not 200 <= status < 300:  # 1xx/3xx: we follow no redirects from FlatPeak; 4xx
            raise FlatPeakRejected(f"HTTP {status}", status=status)
        if allow_empty and not body.strip():
            return {}
        try:
            return json.loads(body)
        except ValueError as e:  # also a body that is not UTF-8
            raise FlatPeakUnavailable("response is not JSON", status=status) from e

    def _exchange(
        self,
        *,
        method: str,
        url: str,
        json_body: dict[str, Any] | None,
        headers: dict[str, str] | None,
        timeout: tuple[float, float],
        deadline: float,
    ) -> tuple[int, bytes, requests.Response]:
        """One request; the body read in chunks, each checked against the deadline."""
        response = self.session.request(
            method,
            url,
            json=json_body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            if not 200 <= response.status_code < 300:
                return response.status_code, b"", response
            body = bytearray()
            for chunk in response.iter_content(chunk_size=_BODY_CHUNK):
                body += chunk
                if time.monotonic() > deadline:
                    raise requests.Timeout("deadline passed while reading the body")
                if len(body) > _MAX_BODY:
                    raise requests.RequestException("the answer is too large")
            return response.status_code, bytes(body), response
        finally:
            response.close()


def _retry_after_seconds(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), 30.0)
    except ValueError:
        return 0.0
