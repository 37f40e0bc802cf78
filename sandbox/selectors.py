"""Reads of the sandbox: sessions, the persona as FlatPeak's `account` object, masked views."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.templatetags.static import static

from sandbox.models import SandboxSession
from sandbox.personas import PERSONAS_BY_SLUG, Persona

CONNECT_TOKEN = re.compile(r"^cot_[0-9a-f]{24}$")
_SECRET_KEYS = {"access_token", "refresh_token", "client_secret", "id_token"}


def connect_token_is_valid(value: str) -> bool:
    return bool(CONNECT_TOKEN.match(value or ""))


def sandbox_session_get(*, connect_token: str) -> SandboxSession | None:
    if not connect_token_is_valid(connect_token):
        return None
    return SandboxSession.objects.filter(connect_token=connect_token).first()


def sandbox_session_list_recent(*, limit: int = 25) -> QuerySet[SandboxSession]:
    return SandboxSession.objects.order_by("-created_at")[:limit]


def sandbox_persona_get(*, slug: str) -> Persona | None:
    return PERSONAS_BY_SLUG.get(slug)


def sandbox_account_for(*, session: SandboxSession, request: HttpRequest) -> dict[str, Any]:
    """The `account` object of the session context: the device maker, as FlatPeak sends it."""
    persona = PERSONAS_BY_SLUG.get(session.persona) or next(iter(PERSONAS_BY_SLUG.values()))
    account: dict[str, Any] = {"id": persona.account_id, "display_name": persona.display_name}
    if persona.raw_links:
        logo = persona.logo
    else:
        logo = request.build_absolute_uri(static(persona.logo)) if persona.logo else ""
    for name, value in (
        ("logo_url", logo),
        ("terms_url", persona.terms_url),
        ("privacy_url", persona.privacy_url),
        ("support_url", persona.support_url),
    ):
        if value:
            account[name] = value
    return account


def token_mask(value: Any) -> str:
    text = str(value or "")
    if len(text) <= 12:
        return "•" * len(text)
    return f"{text[:6]}…{text[-4:]}"


def payload_masked(payload: Any) -> Any:
    """The submission with every token value masked (for pages and the JSON view)."""
    if isinstance(payload, dict):
        return {
            key: token_mask(value) if key in _SECRET_KEYS else payload_masked(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [payload_masked(item) for item in payload]
    return payload


def sandbox_session_summary(*, session: SandboxSession) -> dict[str, Any]:
    """Everything an onboarding check needs to know about a session, tokens masked."""
    requests_ = list(session.requests.all())
    submissions = [r for r in requests_ if r.kind == "submission"]
    accepted = [r for r in submissions if r.outcome.startswith("accepted")]
    return {
        "connect_token": session.connect_token,
        "persona": session.persona,
        "direction": session.direction,
        "created_at": session.created_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "context_fetches": session.context_fetches,
        "status": session.status or None,
        "reason": session.reason or None,
        "submitted_at": session.submitted_at.isoformat() if session.submitted_at else None,
        "payload": payload_masked(session.payload),
        "payloads_received": len(accepted),
        "submission_keys": sorted({r.idempotency_key for r in submissions if r.idempotency_key}),
        "submission_bodies": sorted({r.body_sha256 for r in submissions if r.body_sha256}),
        "requests": [
            {
                "at": r.at.isoformat(),
                "method": r.method,
                "kind": r.kind,
                "status": r.response_status,
                "outcome": r.outcome,
                "error_code": r.error_code or None,
                "idempotency_key": r.idempotency_key or None,
            }
            for r in requests_
        ],
        "access_expires_at": (
            session.access_expires_at.isoformat() if session.access_expires_at else None
        ),
        "poll_result": payload_masked(session.poll_result),
        "token_checks": session.token_checks,
    }


def datetime_parse(value: Any) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 string as an aware datetime; None when absent or unreadable."""
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


_parse_time = datetime_parse


def rates_chart(*, rates: list[dict[str, Any]], timezone_name: str) -> dict[str, Any] | None:
    """Bars for a 24-hour SVG price chart, plus table rows in the tariff's local time."""
    try:
        zone = zoneinfo.ZoneInfo(timezone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    parsed = []
    for item in rates:
        start, end = _parse_time(item["valid_from"]), _parse_time(item["valid_to"])
        try:
            value = Decimal(item["unit_rate"])
        except (InvalidOperation, KeyError):
            continue
        if start and end and end > start:
            parsed.append((start, end, value))
    if not parsed:
        return None
    origin = parsed[0][0]
    span = (parsed[-1][1] - origin).total_seconds() or 1.0
    # Negative prices (paid to use power) hang below a zero line; the scale covers both.
    top = max(max(value for _, _, value in parsed), Decimal(0))
    bottom = min(min(value for _, _, value in parsed), Decimal(0))
    scale = (top - bottom) or Decimal(1)
    width, height = 480, 160
    plot = height - 20
    zero_y = 10 + float(top / scale) * plot
    bars, rows = [], []
    for start, end, value in parsed:
        x = (start - origin).total_seconds() / span * width
        w = max((end - start).total_seconds() / span * width, 1.0)
        h = abs(float(value / scale)) * plot
        bars.append(
            {
                "x": round(x, 2),
                "w": round(w, 2),
                "y": round(zero_y - h if value >= 0 else zero_y, 2),
                "h": round(h, 2),
                "value": value,
                "negative": value < 0,
            }
        )
        rows.append({"start": start.astimezone(zone), "end": end.astimezone(zone), "value": value})
    return {
        "bars": bars,
        "rows": rows,
        "width": width,
        "height": height,
        "max": top,
        "min": bottom,
        "zero_y": round(zero_y, 2),
        "timezone": str(zone),
    }
