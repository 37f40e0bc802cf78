"""The sandbox's FlatPeak API: authentication, context, submission, idempotency, faults."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sandbox.models import SandboxRequest, SandboxSession
from tests.sandbox.conftest import basic
from tests.sandbox.test_validation import VALID_AUTHORISED

MakeSession = Callable[..., SandboxSession]


def context_url(token: str) -> str:
    return f"/sandbox/api/connect/session/{token}"


def get_context(client: Client, token: str, auth: str | None = None) -> Any:
    return client.get(context_url(token), HTTP_AUTHORIZATION=auth or basic())


def submit(client: Client, token: str, body: Any, key: str = "idem-1", auth: str | None = None):
    headers = {"HTTP_AUTHORIZATION": auth or basic()}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(context_url(token), body, content_type="application/json", **headers)


def test_the_api_is_a_404_when_the_sandbox_is_off(
    client: Client, make_sandbox_session: MakeSession, settings: Any
) -> None:
    session = make_sandbox_session()
    settings.SANDBOX_ENABLED = False
    assert get_context(client, session.connect_token).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "auth",
    [
        "",
        basic(key="wrong"),
        basic(user="acc_other"),
        "Bearer sk_test_sandbox_key",
        "Basic !!!not-base64",
    ],
)
def test_wrong_or_missing_credentials_get_401_with_an_error_object(
    client: Client, make_sandbox_session: MakeSession, auth: str
) -> None:
    session = make_sandbox_session()
    response = client.get(context_url(session.connect_token), HTTP_AUTHORIZATION=auth)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["object"] == "error"


def test_no_credentials_configured_means_every_call_is_refused(
    client: Client, make_sandbox_session: MakeSession, settings: Any
) -> None:
    session = make_sandbox_session()
    settings.FLATPEAK_ACCOUNT_ID = ""
    settings.FLATPEAK_API_KEY = ""
    response = get_context(client, session.connect_token, auth=basic("", ""))
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_the_context_carries_the_persona_and_the_connect_web_uri(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session(direction="EXPORT")
    response = get_context(client, session.connect_token)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["account"]["display_name"] == "HeatWise Heat Pumps"
    assert body["account"]["logo_url"].startswith("http://testserver/static/")
    assert body["account"]["privacy_url"] == "https://heatwise.example/privacy"
    assert body["direction"] == "EXPORT"
    assert body["connect_web_uri"] == "http://testserver/sandbox/connect-web/"
    assert body["redirect_uri"] == (
        f"http://provider.test/flatpeak/auth?connect_token={session.connect_token}"
    )
    session.refresh_from_db()
    assert session.context_fetches == 1


def test_the_older_account_info_path_answers_the_same(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    response = client.get(
        f"/sandbox/api/connect/account-info/{session.connect_token}", HTTP_AUTHORIZATION=basic()
    )
    assert response.status_code == HTTPStatus.OK


def test_the_hostile_persona_is_sent_raw(client: Client, make_sandbox_session: MakeSession) -> None:
    session = make_sandbox_session(persona="hostile")
    account = get_context(client, session.connect_token).json()["account"]
    assert "<script>" in account["display_name"]
    assert account["privacy_url"].startswith("javascript:")


def test_an_unknown_token_is_404(client: Client, sandbox_on: Any, db: Any) -> None:
    response = get_context(client, "cot_" + "0" * 24)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "connect_token_not_found"


def test_an_expired_token_is_410_on_both_calls(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    SandboxSession.objects.filter(pk=session.pk).update(expires_at=timezone.now())
    assert get_context(client, session.connect_token).status_code == HTTPStatus.GONE
    response = submit(client, session.connect_token, {"status": "CANCELLED", "reason": "x"})
    assert response.status_code == HTTPStatus.GONE


def test_a_valid_submission_is_accepted_and_points_back_to_connect_web(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    response = submit(client, session.connect_token, VALID_AUTHORISED)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["redirect_uri"] == (
        f"http://testserver/sandbox/connect-web/?fp_cot={session.connect_token}"
    )
    session.refresh_from_db()
    assert session.status == "AUTHORISED"
    assert session.access_token == VALID_AUTHORISED["auth_data"]["access_token"]
    assert session.access_expires_at is not None


def test_an_invalid_submission_gets_422_with_the_fields(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    body = copy.deepcopy(VALID_AUTHORISED)
    body["postal_address"]["country_code"] = "GBR"
    del body["auth_data"]["refresh_token"]
    response = submit(client, session.connect_token, body)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    error = response.json()
    assert (error["object"], error["type"], error["code"]) == (
        "error",
        "invalid_request",
        "validation_failed",
    )
    assert {e["field"] for e in error["errors"]} == {
        "postal_address.country_code",
        "auth_data.refresh_token",
    }
    session.refresh_from_db()
    assert session.status == ""


def test_a_body_that_is_not_json_is_a_400(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    response = client.post(
        context_url(session.connect_token),
        "status=AUTHORISED",
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(),
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "invalid_json"


def test_a_submission_without_an_idempotency_key_is_refused(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    response = submit(client, session.connect_token, VALID_AUTHORISED, key="")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "idempotency_key_missing"


def test_same_key_and_body_gets_the_same_answer_and_counts_once(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    first = submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    second = submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    assert second.status_code == HTTPStatus.OK
    assert second.json() == first.json()
    outcomes = list(
        SandboxRequest.objects.filter(session=session).values_list("outcome", flat=True)
    )
    assert outcomes == ["accepted", "replayed"]


def test_a_second_decision_with_another_key_is_a_409(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    response = submit(client, session.connect_token, VALID_AUTHORISED, key="k-2")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "already_submitted"


def test_the_same_key_with_another_body_is_a_409(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    response = submit(client, session.connect_token, {"status": "DECLINED", "reason": "no"}, "k-1")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "idempotency_key_reused"
    session.refresh_from_db()
    assert session.status == "AUTHORISED"


def test_an_injected_500_on_the_context_strikes_once_then_recovers(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session(fault_context="error_500")
    first = get_context(client, session.connect_token)
    assert first.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert first.json()["type"] == "api_error"
    assert get_context(client, session.connect_token).status_code == HTTPStatus.OK


def test_a_fault_can_repeat_to_outlast_automatic_retries(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session(fault_context="gone_410", fault_repeats=3)
    statuses = [get_context(client, session.connect_token).status_code for _ in range(4)]
    assert statuses == [HTTPStatus.GONE] * 3 + [HTTPStatus.OK]


def test_a_500_on_the_submission_strikes_after_the_payload_is_recorded(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session(fault_submission="error_500")
    first = submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    assert first.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    retry = submit(client, session.connect_token, VALID_AUTHORISED, key="k-1")
    assert retry.status_code == HTTPStatus.OK
    session.refresh_from_db()
    assert session.status == "AUTHORISED"
    accepted = SandboxRequest.objects.filter(session=session, outcome__startswith="accepted")
    assert accepted.count() == 1


def test_a_timeout_fault_answers_only_after_the_clients_read_timeout(
    client: Client, make_sandbox_session: MakeSession, settings: Any
) -> None:
    session = make_sandbox_session(fault_context="timeout")
    started = time.monotonic()
    response = get_context(client, session.connect_token)
    elapsed = time.monotonic() - started
    assert elapsed > settings.FLATPEAK_READ_TIMEOUT
    assert elapsed < settings.FLATPEAK_READ_TIMEOUT + 5
    assert response.status_code == HTTPStatus.OK


def test_a_slow_fault_answers_within_the_read_timeout(
    client: Client, make_sandbox_session: MakeSession, settings: Any
) -> None:
    settings.FLATPEAK_READ_TIMEOUT = 2.0  # a sleep of 1 s: room for a loaded machine
    session = make_sandbox_session(fault_submission="slow")
    started = time.monotonic()
    response = submit(client, session.connect_token, {"status": "CANCELLED", "reason": "user"})
    elapsed = time.monotonic() - started
    assert response.status_code == HTTPStatus.OK
    assert settings.FLATPEAK_READ_TIMEOUT * 0.45 < elapsed < settings.FLATPEAK_READ_TIMEOUT


def test_a_410_fault_on_the_submission_records_nothing(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session(fault_submission="gone_410")
    response = submit(client, session.connect_token, VALID_AUTHORISED)
    assert response.status_code == HTTPStatus.GONE
    session.refresh_from_db()
    assert session.submitted_at is None


def test_the_submission_method_follows_our_setting(
    client: Client, make_sandbox_session: MakeSession, settings: Any
) -> None:
    session = make_sandbox_session()
    settings.FLATPEAK_SUBMIT_METHOD = "PUT"
    refused = submit(client, session.connect_token, {"status": "CANCELLED", "reason": "user"})
    assert refused.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert refused["Allow"] == "GET, PUT"
    accepted = client.put(
        context_url(session.connect_token),
        {"status": "CANCELLED", "reason": "user"},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(),
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert accepted.status_code == HTTPStatus.OK
