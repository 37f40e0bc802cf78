"""OpenAPI 3.1 description of the tariff API and the OAuth endpoints (served at /api/openapi.json).

Hand-written: the API is small, and the document is checked against real responses in
tests/provider_auth/tariff_api/test_openapi.py (jsonschema + a schemathesis run).
"""

from __future__ import annotations

from typing import Any

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_DATETIME = {"type": "string", "format": "date-time"}
_DATETIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

_STRING = {"type": "string"}
_NUMBER = {"type": "number"}
_INTEGER = {"type": "integer"}
_DIRECTION = {"enum": ["IMPORT", "EXPORT"]}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _object(
    properties: dict[str, Any], *, required: list[str] | None = None, description: str = ""
) -> dict[str, Any]:
    """A JSON object schema; every property is required unless `required` names fewer."""
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["required"] = list(properties) if required is None else required
    schema["properties"] = properties
    return schema


_PRICING = {
    "pricing": {
        "enum": ["schedule", "published", "market_indexed"],
        "description": (
            "schedule: rates are the weekly rules; published: the provider publishes a price "
            "per interval (see published_rates); market_indexed: wholesale day-ahead price of "
            "bidding_zone plus the surcharges of each band, (wholesale + surcharge_fixed) × "
            "(1 + surcharge_percentage)."
        ),
    },
    "prices_include_vat": {"type": "boolean"},
    "bidding_zone": {"type": ["string", "null"], "description": "e.g. DE-LU; market_indexed"},
    "published_rates": {
        "oneOf": [
            {"type": "null"},
            _object(
                {
                    "href": {
                        "type": "string",
                        "description": "The rates endpoint serving this tariff's prices.",
                    },
                    "published_until": _DATETIME_OR_NULL,
                    "last_updated": _DATETIME_OR_NULL,
                }
            ),
        ],
        "description": "null for a schedule tariff.",
    },
}
_FRESHNESS = {
    "last_updated": _DATETIME_OR_NULL,
    "next_update": {
        **_DATETIME_OR_NULL,
        "description": "When new prices are expected; null when every tariff is a schedule.",
    },
    "published_until": {
        **_DATETIME_OR_NULL,
        "description": (
            "End of the last published price (never exceeded: prices are not estimated); "
            "null when every tariff is a schedule."
        ),
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "object": {"const": "error"},
            "type": {"enum": ["invalid_request", "api_error", "rate_limit"]},
            "code": {"type": "string", "pattern": "^[a-z_]+$"},
            "message": _STRING,
        },
        description="FlatPeak-style error object.",
    ),
    "RateLimitError": {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"properties": {"type": {"const": "rate_limit"}, "code": {"const": "rate_limit"}}},
        ],
        "description": "Every 429 of this server, tariff API and OAuth endpoints alike.",
    },
    "OAuthError": _object(
        {"error": _STRING, "error_description": _STRING, "error_uri": _STRING},
        required=["error"],
        description="RFC 6749 §5.2 error response.",
    ),
    "PostalAddress": _object(
        {
            "address_line1": _STRING,
            "address_line2": _STRING,
            "city": _STRING,
            "state": _STRING,
            "post_code": _STRING,
            "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
        }
    ),
    "ProviderTariff": _object(
        {
            "object": {"const": "tariff"},
            "name": _STRING,
            "direction": _DIRECTION,
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "timezone": {"type": "string", "description": "IANA tz database name"},
            "standing_charge": {"type": "number", "description": "per day, major units"},
            "rules": _array(
                _object(
                    {
                        "months": _array({"type": "integer", "minimum": 1, "maximum": 12}),
                        "days": _array({"enum": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]}),
                        "valid_from": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
                        "valid_to": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
                        "unit_rate": {
                            "type": ["number", "null"],
                            "description": "per kWh, major units; null for market_indexed",
                        },
                        "tier_to_kwh": _NUMBER_OR_NULL,
                        "surcharge_fixed": {
                            "type": "number",
                            "description": "market_indexed: per kWh, added to wholesale first",
                        },
                        "surcharge_percentage": {
                            "type": "number",
                            "description": "market_indexed: e.g. 0.19, applied after the fixed",
                        },
                    },
                    required=[
                        "months",
                        "days",
                        "valid_from",
                        "valid_to",
                        "unit_rate",
                        "tier_to_kwh",
                    ],
                )
            ),
            "contract_start_date": _DATETIME,
            "contract_end_date": _DATETIME_OR_NULL,
            "premise": _object(
                {
                    "reference": _STRING,
                    "postal_address": {"$ref": "#/components/schemas/PostalAddress"},
                },
                required=["reference"],
            ),
            "updated_at": _DATETIME_OR_NULL,
            **_PRICING,
        },
        # The contract dates need contract:read, the postal address address:read.
        required=[
            "object",
            "name",
            "direction",
            "currency",
            "timezone",
            "standing_charge",
            "rules",
            "premise",
            "updated_at",
        ],
        description=(
            "The current tariff in the provider's format (default). The contract dates only with "
            "the contract:read scope, premise.postal_address only with address:read."
        ),
    ),
    "FlatPeakTariff": _object(
        {
            "object": {"const": "tariff"},
            "direction": _DIRECTION,
            "type": {"const": "COMMODITY"},
            "timezone": _STRING,
            "display_name": _STRING,
            "currency": _STRING,
            "contract_start_date": _DATETIME,
            "contract_end_date": _DATETIME_OR_NULL,
            "schedule": _array(
                _object(
                    {
                        "months": _array(_STRING),
                        "days_and_hours": _array(
                            _object(
                                {
                                    "days": _array(_STRING),
                                    "hours": _array(
                                        _object(
                                            {
                                                "valid_from": _STRING,
                                                "valid_to": _STRING,
                                                "rate": _array(
                                                    _object(
                                                        {
                                                            "value": _NUMBER,
                                                            "to_kwh": _NUMBER_OR_NULL,
                                                            "surcharge_fixed": _NUMBER,
                                                            "surcharge_percentage": _NUMBER,
                                                        },
                                                        required=["to_kwh"],
                                                    )
                                                ),
                                            }
                                        )
                                    ),
                                }
                            )
                        ),
                    }
                )
            ),
            "market_rates": {
                "type": "boolean",
                "description": "FlatPeak's flag: rates are its wholesale price plus surcharges.",
            },
            **_PRICING,
        },
        required=[
            "object",
            "direction",
            "type",
            "timezone",
            "display_name",
            "schedule",
            "market_rates",
            *_PRICING,
        ],
        description=(
            "FlatPeak's tariff element (format=flatpeak). The contract dates only with the "
            "contract:read scope."
        ),
    ),
    "Rates": _object(
        {
            "object": {"const": "rates"},
            "direction": _DIRECTION,
            "currency": _STRING,
            "timezone": _STRING,
            "pricing": _PRICING["pricing"],
            "prices_include_vat": {"type": "boolean"},
            "start_time": _DATETIME,
            "end_time": _DATETIME,
            **_FRESHNESS,
            "data": {
                "type": "array",
                "description": "Contiguous UTC intervals (end exclusive) in time order.",
                "items": _object(
                    {
                        "valid_from": _DATETIME,
                        "valid_to": _DATETIME,
                        "unit_rate": _NUMBER,
                        "tiers": _array(_object({"unit_rate": _NUMBER, "to_kwh": _NUMBER_OR_NULL})),
                    },
                    required=["valid_from", "valid_to", "unit_rate"],
                ),
            },
        },
        description="Concrete rates in our own format (default).",
    ),
    "FlatPeakRates": _object(
        {
            "object": {"const": "tariff_rate"},
            "location_timezone": _STRING,
            "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "direction": _DIRECTION,
            **_FRESHNESS,
            "request": _object(
                {"start_time": _DATETIME, "end_time": _DATETIME, "direction": _DIRECTION}
            ),
            "data": _array(
                _object(
                    {
                        "valid_from": _DATETIME,
                        "valid_to": _DATETIME,
                        "tariff": _object(
                            {
                                "rate": {"type": "number", "description": "per kWh, major units"},
                                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                            }
                        ),
                    }
                )
            ),
        },
        description="FlatPeak's TariffRate time series (format=flatpeak).",
    ),
    "TokenResponse": _object(
        {
            "access_token": _STRING,
            "token_type": {"const": "Bearer"},
            "expires_in": _INTEGER,
            "refresh_token": _STRING,
            "scope": _STRING,
        },
        required=["access_token", "token_type", "expires_in", "scope"],
    ),
    "Introspection": _object(
        {
            "active": {"type": "boolean"},
            "scope": _STRING,
            "client_id": _STRING,
            "token_type": _STRING,
            "exp": _INTEGER,
            "iat": _INTEGER,
            "iss": _STRING,
            "premise_reference": _STRING,
            "directions": _array(_DIRECTION),
        },
        required=["active"],
    ),
    "ServerMetadata": _object(
        {
            "issuer": _STRING,
            "authorization_endpoint": _STRING,
            "token_endpoint": _STRING,
            "revocation_endpoint": _STRING,
            "introspection_endpoint": _STRING,
            "scopes_supported": _array(_STRING),
            "response_types_supported": _array(_STRING),
            "grant_types_supported": _array(_STRING),
            "code_challenge_methods_supported": _array(_STRING),
            "token_endpoint_auth_methods_supported": _array(_STRING),
        },
        required=[
            "issuer",
            "token_endpoint",
            "response_types_supported",
            "grant_types_supported",
            "code_challenge_methods_supported",
        ],
    ),
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _error(description: str, *, bearer: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json("Error")}
    if bearer:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": "RFC 6750 §3 challenge",
                "schema": {"type": "string"},
                "required": True,
            }
        }
    return response


_ETAG_HEADER = {
    "ETag": {"schema": {"type": "string"}, "required": True},
    "Cache-Control": {"schema": {"const": "private, no-cache"}, "required": True},
    "Vary": {"schema": {"type": "string"}, "required": True},
}
_ALLOW_READ = {
    "Allow": {
        "description": "The methods this endpoint answers.",
        "schema": {"const": "GET, HEAD"},
        "required": True,
    }
}
_METHOD_NOT_ALLOWED = {
    "description": "method_not_allowed: only GET and HEAD are served.",
    "headers": _ALLOW_READ,
    "content": _json("Error"),
}
_TARIFF_ERRORS = {
    "304": {
        "description": (
            "Not modified (If-None-Match matched the ETag): no body, the ETag, Cache-Control "
            "and Vary of the 200, and no Content-Type."
        ),
        "headers": _ETAG_HEADER,
    },
    "400": _error("Invalid parameter (invalid_direction, invalid_format, invalid_time, ...)."),
    "401": _error(
        "Missing, unknown, expired or revoked token (missing_token, invalid_token), or the "
        "customer's permission ended: grant_revoked, grant_expired, supply_ended (the "
        "Bearer challenge then says invalid_token).",
        bearer=True,
    ),
    "403": _error("insufficient_scope: scope or direction not granted.", bearer=True),
    "404": _error("no_tariff: no contract in force."),
    "405": _METHOD_NOT_ALLOWED,
    "429": {
        "description": "rate_limit: polling limit per grant reached.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
        "content": _json("RateLimitError"),
    },
}
_DIRECTION_PARAM = {
    "name": "direction",
    "in": "query",
    "required": False,
    "description": (
        "IMPORT or EXPORT; must be covered by the grant. Leave the parameter out for the "
        "default (IMPORT when granted); an empty value is refused (400 invalid_direction)."
    ),
    "schema": {"enum": ["IMPORT", "EXPORT"]},
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}
_FORM_CLIENT = {
    "client_id": {"type": "string"},
    "client_secret": {"type": "string"},
}
_OAUTH_ERRORS = {
    "400": {"description": "RFC 6749 §5.2 error.", "content": _json("OAuthError")},
    "401": {"description": "invalid_client.", "content": _json("OAuthError")},
    "405": {"description": "Only POST is allowed."},
    "429": {
        "description": (
            "rate_limit: limited per client id and per IP (RATE_LIMIT_TOKEN_PER_MINUTE)."
        ),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
        "content": _json("RateLimitError"),
    },
}


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {**properties, **_FORM_CLIENT},
                    "required": required,
                }
            }
        },
    }


def _token_form() -> dict[str, Any]:
    """The RFC 7009 / RFC 7662 request: one token and an optional hint of its type."""
    return _form(
        {"token": _STRING, "token_type_hint": {"enum": ["access_token", "refresh_token"]}},
        ["token"],
    )


def _read_only(get: dict[str, Any]) -> dict[str, Any]:
    """A GET operation and its HEAD twin: same parameters, statuses and headers, no bodies."""
    head = {
        **get,
        "operationId": get["operationId"] + "Head",
        "summary": "HEAD: " + get["summary"],
        "responses": {
            status: {key: value for key, value in response.items() if key != "content"}
            for status, response in get["responses"].items()
        },
    }
    return {"get": get, "head": head}


def openapi_build(*, base_url: str) -> dict[str, Any]:
    """The document, with `servers` pointing at this deployment."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tariff API and OAuth endpoints",
            "version": "1.0.0",
            "description": (
                "FlatPeak (or another registered client) reads a customer's tariff with the "
                "access token obtained through the connect flow or the authorization code "
                "grant, renews it at the token endpoint (refresh tokens rotate on every use; "
                "reusing one revokes the grant) and may poll at most TARIFF_POLL_LIMIT_PER_HOUR "
                "times per hour per grant. Send If-None-Match with the last ETag. Every GET "
                "endpoint answers HEAD alike without a body; other methods answer 405 with "
                "Allow. Errors of the tariff API are Error objects; every 429 has code "
                "rate_limit; a path under /api/ that does not exist answers 404 not_found."
            ),
        },
        "servers": [{"url": base_url}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "clientBasic": {"type": "http", "scheme": "basic"},
            },
        },
        "paths": {
            "/api/v1/tariff": _read_only(
                {
                    "operationId": "tariffCurrent",
                    "summary": "The tariff in force now for the grant's supply point.",
                    "security": [{"bearer": []}],
                    "parameters": [
                        _DIRECTION_PARAM,
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["provider", "flatpeak"]},
                        },
                        _IF_NONE_MATCH,
                    ],
                    "responses": {
                        "200": {
                            "description": "The current tariff.",
                            "headers": _ETAG_HEADER,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/ProviderTariff"},
                                            {"$ref": "#/components/schemas/FlatPeakTariff"},
                                        ]
                                    }
                                }
                            },
                        },
                        **_TARIFF_ERRORS,
                    },
                }
            ),
            "/api/v1/tariff/rates": _read_only(
                {
                    "operationId": "tariffRates",
                    "summary": "Concrete unit rates for every instant of a range (at most 7 days).",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "start_time",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "end_time",
                            "in": "query",
                            "required": True,
                            "description": (
                                "Exclusive; must be after start_time and at most 7 days "
                                "later. A start_time equal to end_time names no instant and "
                                "is refused with 400 invalid_time_range."
                            ),
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        _DIRECTION_PARAM,
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["provider", "flatpeak"]},
                        },
                        _IF_NONE_MATCH,
                    ],
                    "responses": {
                        "200": {
                            "description": (
                                "Intervals in UTC, in time order. Published and market-indexed "
                                "prices cover only what is published (up to published_until)."
                            ),
                            "headers": _ETAG_HEADER,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Rates"},
                                            {"$ref": "#/components/schemas/FlatPeakRates"},
                                        ]
                                    }
                                }
                            },
                        },
                        **_TARIFF_ERRORS,
                        "404": _error(
                            "no_tariff: no contract in the range; prices_not_published: the "
                            "whole range lies where no price is published yet (Retry-After: "
                            "seconds until next_update)."
                        ),
                    },
                }
            ),
            "/oauth/token": {
                "post": {
                    "operationId": "oauthToken",
                    "summary": "RFC 6749 token endpoint: authorization_code (PKCE S256) and refresh_token.",
                    "security": [{"clientBasic": []}, {}],
                    "requestBody": _form(
                        {
                            "grant_type": {"enum": ["authorization_code", "refresh_token"]},
                            "code": {"type": "string"},
                            "redirect_uri": {"type": "string"},
                            "code_verifier": {"type": "string"},
                            "refresh_token": {"type": "string"},
                            "scope": {"type": "string"},
                        },
                        ["grant_type"],
                    ),
                    "responses": {
                        "200": {"description": "Tokens.", "content": _json("TokenResponse")},
                        **_OAUTH_ERRORS,
                    },
                }
            },
            "/oauth/revoke": {
                "post": {
                    "operationId": "oauthRevoke",
                    "summary": "RFC 7009: revoking either token revokes the whole grant.",
                    "security": [{"clientBasic": []}, {}],
                    "requestBody": _token_form(),
                    "responses": {
                        "200": {
                            "description": "Revoked (or unknown token).",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_OAUTH_ERRORS,
                    },
                }
            },
            "/oauth/introspect": {
                "post": {
                    "operationId": "oauthIntrospect",
                    "summary": "RFC 7662: the calling client's own tokens only.",
                    "security": [{"clientBasic": []}, {}],
                    "requestBody": _token_form(),
                    "responses": {
                        "200": {"description": "Introspection.", "content": _json("Introspection")},
                        **_OAUTH_ERRORS,
                    },
                }
            },
            "/.well-known/oauth-authorization-server": _read_only(
                {
                    "operationId": "serverMetadata",
                    "summary": "RFC 8414 authorization server metadata.",
                    "responses": {
                        "200": {"description": "Metadata.", "content": _json("ServerMetadata")},
                        "405": _METHOD_NOT_ALLOWED,
                    },
                }
            ),
        },
    }
