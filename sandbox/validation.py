"""The sandbox's check of a submission against docs/flatpeak-contract.md §4.

The point is to catch our own regressions: a field renamed, a date in local time, `auth_data`
sent with a refusal (a privacy leak), an unknown status. Each problem names its field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

STATUSES = ("AUTHORISED", "DECLINED", "CANCELLED", "LOGIN_FAILED", "NO_TARIFF")
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "post_code", "country_code")
ADDRESS_REQUIRED = ("address_line1", "city", "post_code", "country_code")
AUTH_DATA_REQUIRED_TEXT = ("access_token", "refresh_token", "token_type")
AUTH_DATA_URLS = ("token_endpoint", "tariff_endpoint", "revocation_endpoint")
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# RFC 3339 in UTC: a trailing Z (or +00:00), optional fraction.
_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def _date_parse(value: str) -> dt.datetime | None:
    if not _RFC3339_UTC.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_absolute_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"https", "http"} and bool(parts.netloc)


def _auth_data_errors(auth_data: Any) -> list[FieldError]:
    if not isinstance(auth_data, dict):
        return [FieldError("auth_data", "required: an object with the OAuth credentials")]
    errors = []
    for name in AUTH_DATA_REQUIRED_TEXT:
        if not isinstance(auth_data.get(name), str) or not auth_data[name]:
            errors.append(FieldError(f"auth_data.{name}", "required: a non-empty string"))
    token_type = auth_data.get("token_type")
    if isinstance(token_type, str) and token_type and token_type.lower() != "bearer":
        errors.append(FieldError("auth_data.token_type", "must be 'Bearer'"))
    expires_in = auth_data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        errors.append(FieldError("auth_data.expires_in", "required: a positive integer (seconds)"))
    for name in AUTH_DATA_URLS:
        required = name != "revocation_endpoint"
        if name not in auth_data and not required:
            continue
        if not _is_absolute_http_url(auth_data.get(name)):
            errors.append(FieldError(f"auth_data.{name}", "required: an absolute http(s) URL"))
    interval = auth_data.get("min_poll_interval_seconds")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int) or interval < 0
    ):
        errors.append(
            FieldError("auth_data.min_poll_interval_seconds", "must be a non-negative integer")
        )
    for name in ("scope", "client_id"):
        if name in auth_data and not isinstance(auth_data[name], str):
            errors.append(FieldError(f"auth_data.{name}", "must be a string"))
    return errors


def _postal_address_errors(address: Any) -> list[FieldError]:
    if not isinstance(address, dict):
        return [FieldError("postal_address", "must be an object")]
    errors = []
    for name in sorted(set(address) - set(ADDRESS_FIELDS)):
        errors.append(FieldError(f"postal_address.{name}", "unknown field"))
    for name in ADDRESS_FIELDS:
        value = address.get(name)
        if name in ADDRESS_REQUIRED and (not isinstance(value, str) or not value.strip()):
            errors.append(FieldError(f"postal_address.{name}", "required: a non-empty string"))
        elif value is not None and not isinstance(value, str):
            errors.append(FieldError(f"postal_address.{name}", "must be a string"))
    country = address.get("country_code")
    if isinstance(country, str) and country and not _COUNTRY.match(country):
        errors.append(
            FieldError("postal_address.country_code", "must be ISO 3166-1 alpha-2, e.g. 'GB'")
        )
    return errors


def _contract_term_errors(term: Any) -> list[FieldError]:
    if not isinstance(term, dict):
        return [FieldError("contract_term", "must be an object")]
    errors = []
    parsed: dict[str, dt.datetime] = {}
    for name in sorted(set(term) - {"contract_start_date", "contract_end_date"}):
        errors.append(FieldError(f"contract_term.{name}", "unknown field"))
    for name in ("contract_start_date", "contract_end_date"):
        if name not in term:
            errors.append(FieldError(f"contract_term.{name}", "required (null when unknown)"))
            continue
        value = term[name]
        if value is None:
            continue
        when = _date_parse(value) if isinstance(value, str) else None
        if when is None:
            errors.append(
                FieldError(
                    f"contract_term.{name}",
                    "must be RFC 3339 in UTC (e.g. 2025-04-01T00:00:00Z) or null",
                )
            )
        else:
            parsed[name] = when
    start, end = parsed.get("contract_start_date"), parsed.get("contract_end_date")
    if start and end and end < start:
        errors.append(FieldError("contract_term.contract_end_date", "is before the start date"))
    return errors


def submission_validate(*, payload: Any) -> list[FieldError]:
    """Every way `payload` breaks the contract's submission format; empty when it is valid."""
    if not isinstance(payload, dict):
        return [FieldError("", "the body must be a JSON object")]
    status = payload.get("status")
    if status not in STATUSES:
        return [FieldError("status", "must be one of " + ", ".join(STATUSES))]
    errors: list[FieldError] = []
    if status == "AUTHORISED":
        errors += _auth_data_errors(payload.get("auth_data"))
        reference = payload.get("reference_id")
        if reference is not None and (not isinstance(reference, str) or not reference):
            errors.append(FieldError("reference_id", "must be a non-empty string"))
        if payload.get("postal_address") is not None:
            errors += _postal_address_errors(payload["postal_address"])
        if payload.get("contract_term") is not None:
            errors += _contract_term_errors(payload["contract_term"])
    else:
        reason = payload.get("reason")
        if not isinstance(reason, str) or not _REASON.match(reason):
            errors.append(
                FieldError(
                    "reason", "required: a short snake_case machine code, e.g. 'user_denied'"
                )
            )
        # Nothing about the customer may travel with a refusal.
        for name in ("auth_data", "postal_address", "contract_term"):
            if name in payload:
                errors.append(FieldError(name, f"must be absent when status is {status}"))
    return errors
