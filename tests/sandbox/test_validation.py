"""The sandbox rejects submissions that break `docs/flatpeak-contract.md` §4, naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox.validation import submission_validate

VALID_AUTHORISED: dict[str, Any] = {
    "status": "AUTHORISED",
    "reference_id": "PRM-000123",
    "auth_data": {
        "token_type": "Bearer",
        "access_token": "at_" + "a" * 40,
        "refresh_token": "rt_" + "b" * 40,
        "expires_in": 3600,
        "scope": "tariff:read",
        "client_id": "flatpeak",
        "token_endpoint": "https://auth.provider.example/oauth/token",
        "tariff_endpoint": "https://auth.provider.example/api/v1/tariff",
        "revocation_endpoint": "https://auth.provider.example/oauth/revoke",
        "min_poll_interval_seconds": 900,
    },
    "postal_address": {
        "address_line1": "1-3 Strand",
        "address_line2": "",
        "city": "London",
        "state": "Greater London",
        "post_code": "WC2N 5EH",
        "country_code": "GB",
    },
    "contract_term": {
        "contract_start_date": "2025-04-01T00:00:00Z",
        "contract_end_date": "2026-03-31T23:59:59Z",
    },
}


def fields(payload: Any) -> set[str]:
    return {error.field for error in submission_validate(payload=payload)}


def changed(path: str, value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(VALID_AUTHORISED)
    *parents, leaf = path.split(".")
    target = payload
    for name in parents:
        target = target[name]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return payload


def test_the_contract_example_is_valid() -> None:
    assert submission_validate(payload=VALID_AUTHORISED) == []


@pytest.mark.parametrize("status", ["DECLINED", "CANCELLED", "LOGIN_FAILED", "NO_TARIFF"])
def test_each_refusal_status_with_a_reason_is_valid(status: str) -> None:
    assert submission_validate(payload={"status": status, "reason": "user_denied"}) == []


def test_an_unknown_status_is_rejected() -> None:
    assert fields({"status": "APPROVED"}) == {"status"}


def test_a_body_that_is_not_an_object_is_rejected() -> None:
    assert fields(["AUTHORISED"]) == {""}


def test_a_refusal_without_a_reason_is_rejected() -> None:
    assert fields({"status": "DECLINED"}) == {"reason"}


def test_a_refusal_reason_must_be_a_machine_code() -> None:
    assert fields({"status": "DECLINED", "reason": "The customer said no"}) == {"reason"}


@pytest.mark.parametrize("leak", ["auth_data", "postal_address", "contract_term"])
def test_a_refusal_carrying_customer_data_is_rejected(leak: str) -> None:
    payload = {"status": "CANCELLED", "reason": "user_cancelled", leak: VALID_AUTHORISED[leak]}
    assert fields(payload) == {leak}


def test_authorised_without_auth_data_is_rejected() -> None:
    assert fields(changed("auth_data", ...)) == {"auth_data"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("auth_data.access_token", ...),
        ("auth_data.refresh_token", ""),
        ("auth_data.token_type", "MAC"),
        ("auth_data.expires_in", "3600"),
        ("auth_data.expires_in", 0),
        ("auth_data.expires_in", True),
        ("auth_data.tariff_endpoint", "/api/v1/tariff"),
        ("auth_data.token_endpoint", ...),
        ("auth_data.revocation_endpoint", "javascript:alert(1)"),
        ("auth_data.min_poll_interval_seconds", -1),
        ("postal_address.country_code", "GBR"),
        ("postal_address.country_code", "gb"),
        ("postal_address.post_code", ""),
        ("postal_address.city", ...),
        ("postal_address.zip", "WC2N"),
        ("contract_term.contract_start_date", "2025-04-01"),
        ("contract_term.contract_start_date", "2025-04-01T01:00:00+01:00"),
        ("contract_term.contract_end_date", "2020-01-01T00:00:00Z"),
        ("contract_term.contract_end_date", ...),
        ("contract_term.contract_start_date", 20250401),
    ],
)
def test_each_contract_violation_names_its_field(path: str, value: Any) -> None:
    assert fields(changed(path, value)) == {path}


def test_unknown_dates_are_null_not_missing() -> None:
    payload = changed("contract_term.contract_end_date", None)
    assert submission_validate(payload=payload) == []


def test_fractional_seconds_in_utc_are_accepted() -> None:
    payload = changed("contract_term.contract_start_date", "2025-04-01T00:00:00.000Z")
    assert submission_validate(payload=payload) == []


def test_address_and_contract_term_are_optional_when_authorised() -> None:
    payload = changed("postal_address", ...)
    del payload["contract_term"]
    assert submission_validate(payload=payload) == []
