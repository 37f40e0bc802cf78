"""FlatPeak-style error objects for the tariff API, with RFC 6750 headers on 401/403."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from http import HTTPStatus

from django.http import JsonResponse

from accounts.timefmt import rfc3339
from provider_auth.oauth.scopes import TARIFF_READ

REALM = "tariff"


@dataclass
class TariffApiError(Exception):
    """An error answer: `{"object": "error", "type", "code", "message"}`.

    `bearer_error` (RFC 6750 §3.1: invalid_request, invalid_token, insufficient_scope) adds a
    WWW-Authenticate challenge; `bearer_challenge` alone adds one without an error code (a
    request that carried no credentials at all, RFC 6750 §3.1 last paragraph).
    """

    status: HTTPStatus
    code: str
    message: str
    type: str = "invalid_request"
    bearer_error: str = ""
    bearer_challenge: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"object": "error", "type": self.type, "code": self.code, "message": self.message},
            status=self.status,
        )
        if self.bearer_error or self.bearer_challenge:
            params = [f'realm="{REALM}"']
            if self.bearer_error:
                params.append(f'error="{self.bearer_error}"')
                params.append(f'error_description="{self.message}"')
            if self.bearer_error == "insufficient_scope":
                params.append(f'scope="{TARIFF_READ}"')
            response["WWW-Authenticate"] = "Bearer " + ", ".join(params)
        for name, value in self.headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return response


def missing_token() -> TariffApiError:
    return TariffApiError(
        HTTPStatus.UNAUTHORIZED,
        "missing_token",
        "Send an access token: Authorization: Bearer <token>.",
        bearer_challenge=True,
    )


def malformed_authorization() -> TariffApiError:
    return TariffApiError(
        HTTPStatus.BAD_REQUEST,
        "invalid_request",
        "The Authorization header is malformed. Send Authorization: Bearer <token>.",
        bearer_error="invalid_request",
    )


def invalid_token() -> TariffApiError:
    return TariffApiError(
        HTTPStatus.UNAUTHORIZED,
        "invalid_token",
        "The access token is expired, revoked or unknown. Refresh it at the token endpoint.",
        bearer_error="invalid_token",
    )


# Why a genuine token stopped working: the grant ended (`provider_auth.consent.lifecycle`).
GRANT_ENDED_MESSAGES = {
    "grant_revoked": "The customer's permission was revoked. Ask the customer to connect again.",
    "grant_expired": "The customer's permission has expired. Ask the customer to connect again.",
    "supply_ended": (
        "The supply at this address has ended (the customer moved out or switched supplier)."
    ),
}


def grant_ended(reason: str) -> TariffApiError:
    """401 `invalid_token` (RFC 6750) whose FlatPeak-style `code` says why the grant ended."""
    return TariffApiError(
        HTTPStatus.UNAUTHORIZED,
        reason,
        GRANT_ENDED_MESSAGES.get(reason, GRANT_ENDED_MESSAGES["grant_revoked"]),
        bearer_error="invalid_token",
    )


def insufficient_scope(
    message: str = f"The access token lacks the {TARIFF_READ} scope.",
) -> TariffApiError:
    return TariffApiError(
        HTTPStatus.FORBIDDEN, "insufficient_scope", message, bearer_error="insufficient_scope"
    )


def bad_request(code: str, message: str) -> TariffApiError:
    return TariffApiError(HTTPStatus.BAD_REQUEST, code, message)


def no_tariff() -> TariffApiError:
    return TariffApiError(
        HTTPStatus.NOT_FOUND,
        "no_tariff",
        "No contract is in force for this supply point and direction.",
    )


def prices_not_published(
    *, published_until: dt.datetime | None, next_update: dt.datetime, now: dt.datetime
) -> TariffApiError:
    """The whole requested range lies where no price is published (e.g. the day after tomorrow).

    404, not an empty 200: there is nothing at this address yet. Retry-After says when new
    prices are expected (`next_update`).
    """
    known = (
        f"Prices are published until {rfc3339(published_until)}"
        if published_until is not None
        else "No prices are published yet"
    )
    return TariffApiError(
        HTTPStatus.NOT_FOUND,
        "prices_not_published",
        f"{known}; new prices are expected at {rfc3339(next_update)}. "
        "Prices are never estimated: ask for a range that overlaps the published prices.",
        headers={"Retry-After": str(max(1, int((next_update - now).total_seconds())))},
    )


def rate_limited(retry_after: int) -> TariffApiError:
    return TariffApiError(
        HTTPStatus.TOO_MANY_REQUESTS,
        "rate_limit",
        "Too many requests for this grant; retry after the number of seconds in Retry-After.",
        type="rate_limit",
        headers={"Retry-After": str(retry_after)},
    )


def method_not_allowed(allowed: tuple[str, ...]) -> TariffApiError:
    return TariffApiError(
        HTTPStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        f"This endpoint answers {' and '.join(allowed)} only.",
        headers={"Allow": ", ".join(allowed)},
    )


def not_found() -> TariffApiError:
    return TariffApiError(
        HTTPStatus.NOT_FOUND,
        "not_found",
        "No such endpoint. The API is described at /api/openapi.json.",
    )
