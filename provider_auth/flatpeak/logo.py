"""Fetch a device maker's logo (FlatPeak's `account.logo_url`) server-side, to serve it ourselves.

Threat: the URL is chosen by a third party, so fetching it is server-side request forgery (to
our internal network, via redirects or DNS rebinding), a resource bomb (huge, slow or compressed
bodies) and, once served from our origin, stored XSS (script in SVG, content sniffing). So: https
only (http only when DEBUG), public addresses only (any address when DEBUG), the connection pinned
to the address we checked, no redirects, no proxies, no content-encoding, short timeouts and a
total deadline, a streamed size cap, and only PNG/JPEG/WebP/GIF whose magic bytes match.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter

from provider_auth.flatpeak.client import url_scheme_allowed

logger = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024
CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 3.0  # seconds, per read
TOTAL_DEADLINE = 5.0  # seconds for the whole body: a slow drip must not hold a worker
_CHUNK = 8192

# SVG is refused: it is a document that can carry script, and we would serve it from our origin.
CONTENT_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


class LogoRefused(Exception):  # noqa: N818 (reads as a sentence: `raise LogoRefused(...)`)
    """The logo is not used. The message is the operator's reason; it never holds a secret."""


@dataclass(frozen=True)
class Logo:
    content: bytes
    content_type: str


def logo_sniff(content: bytes) -> str:
    """The image type the bytes really are (from their magic bytes); empty if none we accept."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return ""


# IPv6 ranges that carry an IPv4 address a relay or translator will connect to: the real
# destination is the embedded IPv4 one, which Python's `is_global` on the IPv6 address ignores.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 2.5.5.1 (deprecated)


def _ipv4_public(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses `ip` leads to (NAT64, 6to4, Teredo, mapped, compatible); None if none.

    An empty list means "embeds one we cannot locate": the local-use NAT64 prefix places it
    anywhere between bits 32 and 96 (RFC 6052 2.2), so it is refused outright.
    """
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [server, client]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip in _NAT64_LOCAL_USE:
        return []
    if ip in _NAT64_WELL_KNOWN or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return None


def address_allowed(address: str) -> bool:
    """Only globally routable unicast addresses; anything when DEBUG (the demo's 127.0.0.1).

    An IPv6 address that embeds IPv4 ones (NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
    2002::/16, Teredo 2001::/32, IPv4-mapped and -compatible) is judged by what it embeds.
    """
    if settings.DEBUG:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return bool(embedded) and all(_ipv4_public(v4) for v4 in embedded)
    return ip.is_global and not ip.is_multicast


def host_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (DNS leaves the process: tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address we checked, not to whatever DNS answers next (rebinding).

    TLS still verifies the certificate and sends SNI for the URL's host name.
    """

    def __init__(self, *, address: str) -> None:
        self._address = address
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        hostname = host_params["host"]
        pinned_host: dict[str, Any] = {**host_params, "host": self._address}
        pinned_pool: dict[str, Any] = dict(pool_kwargs)
        if pinned_host["scheme"] == "https":
            pinned_pool.update(server_hostname=hostname, assert_hostname=hostname)
        return pinned_host, pinned_pool


def logo_fetch(*, url: str) -> Logo:
    """GET the logo with every check above; raises LogoRefused with the reason."""
    if not url_scheme_allowed(url):
        raise LogoRefused("not an https URL")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        addresses = host_resolve(host, port)
    except (OSError, UnicodeError) as e:
        raise LogoRefused(f"host {host!r} does not resolve") from e
    if not addresses:
        raise LogoRefused(f"host {host!r} does not resolve")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        # Any non-public answer refuses the host: a mix is how rebinding attacks start.
        raise LogoRefused(f"host {host!r} resolves to a non-public address")
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment
        session.mount("https://", _PinnedAdapter(address=addresses[0]))
        session.mount("http://", _PinnedAdapter(address=addresses[0]))
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host:  # an IPv6 literal
            netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
        headers = {
            "Host": netloc,
            "Accept": ", ".join(CONTENT_TYPES),
            "Accept-Encoding": "identity",
            "User-Agent": "provider-auth/1 (+FlatPeak connect logo)",
        }
        try:
            response = session.get(
                url,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as e:
            raise LogoRefused(f"request failed: {type(e).__name__}") from e
        with response:
            return _logo_read(response)


def _logo_read(response: requests.Response) -> Logo:
    started = time.monotonic()
    if response.is_redirect or 300 <= response.status_code < 400:
        raise LogoRefused(f"redirect (HTTP {response.status_code}) not followed")
    if response.status_code != 200:
        raise LogoRefused(f"HTTP {response.status_code}")
    declared = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if declared not in CONTENT_TYPES:
        raise LogoRefused(f"content type {declared[:40]!r} is not an allowed image type")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise LogoRefused(f"content encoding {encoding[:20]!r} refused")
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise LogoRefused(f"larger than {MAX_BYTES} bytes")
    body = bytearray()
    try:
        while True:
            # read1: whatever has arrived (at most one socket read), so a slow drip meets the
            # deadline check; each read is still bounded by READ_TIMEOUT.
            chunk = response.raw.read1(_CHUNK, decode_content=False)
            if not chunk:
                break
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                raise LogoRefused(f"larger than {MAX_BYTES} bytes")
            if time.monotonic() - started > TOTAL_DEADLINE:
                raise LogoRefused("too slow")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
        raise LogoRefused(f"body failed: {type(e).__name__}") from e
    content = bytes(body)
    sniffed = logo_sniff(content)
    if sniffed != declared:
        raise LogoRefused(f"bytes are {sniffed or 'not an allowed image'}, not {declared}")
    return Logo(content=content, content_type=declared)


def partner_logo_fetch(*, url: str, label: str) -> Logo | None:
    """The logo, or None (logged with the reason) — a logo never breaks the flow.

    `label` identifies the flow in the log (a redacted connect token), never a secret.
    """
    if not url:
        return None
    try:
        logo = logo_fetch(url=url)
    except LogoRefused as error:
        logger.warning("Partner logo for %s not used: %s", label, error)
        return None
    except Exception:  # decoration must never break the flow
        logger.exception("Partner logo for %s not used: unexpected error", label)
        return None
    logger.info(
        "Partner logo for %s fetched (%s, %d bytes)", label, logo.content_type, len(logo.content)
    )
    return logo
