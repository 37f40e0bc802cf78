"""The client's IP address, as far as we can trust it.

Threat: an attacker who can choose the address we count against escapes every per-IP limit
(or locks out someone else). Only the right-most TRUSTED_PROXY_COUNT hops of X-Forwarded-For
were written by proxies we run; anything left of them is attacker-controlled and ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address our N trusted proxies saw, when TRUSTED_PROXY_COUNT=N > 0."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxies <= 0:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    # Our first proxy appended the address it saw last; with N proxies the client is N from
    # the right.
    return _valid_ip(hops[-proxies]) or remote
