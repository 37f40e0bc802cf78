"""The sandbox's pages: the device maker's app, connect-web (with the poller), sessions list."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.test import Client, override_settings

from sandbox import services
from sandbox.models import SandboxSession
from tests.sandbox.conftest import SANDBOX_KEY
from tests.sandbox.test_validation import VALID_AUTHORISED

MakeSession = Callable[..., SandboxSession]
TARIFF = "http://testserver/api/v1/tariff"
TOKEN_ENDPOINT = "http://testserver/oauth/token"


def authorised_payload() -> dict[str, Any]:
    payload = copy.deepcopy(VALID_AUTHORISED)
    payload["auth_data"].update(
        tariff_endpoint=TARIFF,
        token_endpoint=TOKEN_ENDPOINT,
        revocation_endpoint="http://testserver/oauth/revoke",
        access_token="at_first_access_token_value_1234",
        refresh_token="rt_first_refresh_token_value_5678",
    )
    return payload


def submit(session: SandboxSession, payload: dict[str, Any], key: str = "k") -> None:
    answer = services.sandbox_submission_receive(
        token=session.connect_token, payload=payload, idempotency_key=key, redirect_uri="x"
    )
    assert answer.status == HTTPStatus.OK, answer.body


def mock_provider(rsps: responses.RequestsMock) -> None:
    """Our own tariff API and token endpoint, as seen from FlatPeak's poller."""
    rsps.get(
        TARIFF,
        match=[responses.matchers.query_param_matcher({"direction": "IMPORT"})],
        json={"name": "Fixed Saver", "currency": "GBP", "timezone": "Europe/London"},
    )
    rsps.get(
        TARIFF,
        match=[
            responses.matchers.query_param_matcher({"direction": "IMPORT", "format": "flatpeak"})
        ],
        json={"type": "COMMODITY", "schedule": []},
    )
    rsps.get(
        TARIFF + "/rates",
        json={
            "rates": [
                {
                    "valid_from": "2026-01-01T00:00:00Z",
                    "valid_to": "2026-01-01T07:00:00Z",
                    "unit_rate": "0.1300",
                },
                {
                    "valid_from": "2026-01-01T07:00:00Z",
                    "valid_to": "2026-01-02T00:00:00Z",
                    "unit_rate": "0.2900",
                },
            ]
        },
    )
    rsps.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "at_second_access_token_value_abcd",
            "refresh_token": "rt_second_refresh_token_value_efgh",
            "expires_in": 7200,
            "token_type": "Bearer",
        },
    )


def test_every_page_is_a_404_when_the_sandbox_is_off(client: Client, db: Any) -> None:
    for url in ("/sandbox/", "/sandbox/sessions/", "/sandbox/connect-web/?fp_cot=x"):
        assert client.get(url, secure=True).status_code == HTTPStatus.NOT_FOUND


def test_the_app_lists_personas_with_hostile_text_escaped_and_a_banner(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    response = client.get("/sandbox/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Sandbox — test data" in html
    assert "HeatWise Heat Pumps" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Connect my tariff" in html


def test_the_apps_csp_lets_the_form_redirect_to_our_authentication_uri(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    csp = client.get("/sandbox/")["Content-Security-Policy"]
    assert "form-action 'self' http://provider.test" in csp


def test_connect_my_tariff_creates_a_token_and_sends_the_browser_to_our_auth_uri(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    response = client.post(
        "/sandbox/",
        {"persona": "voltcar", "direction": "EXPORT"},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "http://provider.test/flatpeak/auth"
    )
    token = parse_qs(location.query)["connect_token"][0]
    assert re.fullmatch(r"cot_[0-9a-f]{24}", token)
    session = SandboxSession.objects.get(connect_token=token)
    assert (session.persona, session.direction, session.app_origin) == (
        "voltcar",
        "EXPORT",
        "http://testserver",
    )


def test_a_fault_choice_is_stored_with_its_repeat_count(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    client.post(
        "/sandbox/",
        {
            "persona": "heatwise",
            "direction": "IMPORT",
            "fault_context": "error_500",
            "fault_submission": "timeout",
            "fault_repeats": "3",
        },
    )
    session = SandboxSession.objects.get()
    assert (session.fault_context, session.fault_context_left) == ("error_500", 3)
    assert (session.fault_submission, session.fault_submission_left) == ("timeout", 3)


def test_a_bad_choice_shows_the_form_again_with_an_error(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    response = client.post(
        "/sandbox/", {"persona": "nobody", "direction": "IMPORT", "fault_repeats": "1"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'id="persona-error"' in response.content.decode()
    assert not SandboxSession.objects.exists()


def test_the_app_form_needs_a_csrf_token(sandbox_on: Any, db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sandbox/", {"persona": "heatwise", "direction": "IMPORT"})
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("value", ["", "abc", "cot_XYZ", "cot_" + "g" * 24])
def test_connect_web_with_a_malformed_token_is_a_400(
    client: Client, sandbox_on: Any, db: Any, value: str
) -> None:
    response = client.get("/sandbox/connect-web/", {"fp_cot": value})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_connect_web_with_an_unknown_token_is_a_404(
    client: Client, sandbox_on: Any, db: Any
) -> None:
    response = client.get("/sandbox/connect-web/", {"fp_cot": "cot_" + "a" * 24})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_connect_web_without_a_decision_says_so(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    response = client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token})
    assert response.status_code == HTTPStatus.OK
    assert "No decision received yet" in response.content.decode()


def test_connect_web_shows_a_refusal_with_its_reason(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    submit(session, {"status": "DECLINED", "reason": "user_declined"})
    html = client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token}).content.decode()
    assert "DECLINED" in html
    assert "user_declined" in html
    assert "FlatPeak&#x27;s poller" not in html


@responses.activate
def test_connect_web_polls_once_shows_tariff_chart_and_the_refreshed_expiry(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    mock_provider(responses.mock)
    session = make_sandbox_session()
    submit(session, authorised_payload())
    response = client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "AUTHORISED" in html
    assert "1-3 Strand" in html and "2026-03-31T23:59:59Z" in html
    assert "Fixed Saver" in html
    assert "<svg" in html and html.count("<rect") == 2
    assert "0.1300" in html and "0.2900" in html
    assert "Refreshed the token once: the new access token expires at" in html
    # Token values are masked on the page.
    for secret in ("at_first_access_token_value_1234", "rt_first_refresh_token_value_5678"):
        assert secret not in html
    session.refresh_from_db()
    assert session.access_token == "at_second_access_token_value_abcd"
    assert session.poll_result["ok"] is True
    refresh_call = next(c for c in responses.calls if c.request.url == TOKEN_ENDPOINT)
    assert "refresh_token=rt_first_refresh_token_value_5678" in refresh_call.request.body
    assert refresh_call.request.headers["Authorization"].startswith("Basic ")
    # A second view shows the stored result without polling again.
    calls = len(responses.calls)
    client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token})
    assert len(responses.calls) == calls


@responses.activate
def test_the_poller_never_calls_a_foreign_origin(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    payload = authorised_payload()
    payload["auth_data"]["tariff_endpoint"] = "http://169.254.169.254/latest/meta-data"
    submit(session, payload)
    html = client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token}).content.decode()
    assert len(responses.calls) == 0
    assert "refused to call a foreign origin" in html


@responses.activate
def test_poll_again_is_a_post_that_redirects_back_with_303(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    mock_provider(responses.mock)
    session = make_sandbox_session()
    submit(session, authorised_payload())
    response = client.post(f"/sandbox/sessions/{session.connect_token}/poll")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"].endswith(f"/sandbox/connect-web/?fp_cot={session.connect_token}")
    session.refresh_from_db()
    assert session.poll_result["ok"] is True


@responses.activate
@override_settings(OAUTH_REFRESH_GRACE_SECONDS=0)  # the double has no refresh grace window
def test_token_checks_pass_against_a_provider_that_rotates_and_detects_reuse(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    """A provider double: rotation on refresh, reuse revokes the grant."""
    state = {
        "revoked": False,
        "access": "at_first_access_token_value_1234",
        "refresh": "rt_first_refresh_token_value_5678",
        "n": 0,
    }

    def tariff(request: Any) -> tuple[int, dict[str, str], str]:
        if state["revoked"] or request.headers["Authorization"] != f"Bearer {state['access']}":
            return (401, {}, json.dumps({"object": "error", "code": "invalid_token"}))
        body = {"schedule": []} if "format=flatpeak" in request.url else {"name": "x"}
        return (200, {}, json.dumps(body))

    def token(request: Any) -> tuple[int, dict[str, str], str]:
        presented = parse_qs(request.body)["refresh_token"][0]
        if state["revoked"] or presented != state["refresh"]:
            state["revoked"] = True
            return (400, {}, json.dumps({"error": "invalid_grant"}))
        state["n"] += 1
        state["access"], state["refresh"] = (
            f"at_new_{state['n']}_xxxxxxxx",
            f"rt_new_{state['n']}_x",
        )
        body = {
            "access_token": state["access"],
            "refresh_token": state["refresh"],
            "expires_in": 3600,
        }
        return (200, {}, json.dumps(body))

    responses.add_callback(responses.GET, TARIFF, callback=tariff)
    responses.add_callback(responses.POST, TOKEN_ENDPOINT, callback=token)
    session = make_sandbox_session()
    submit(session, authorised_payload())
    SandboxSession.objects.filter(pk=session.pk).update(poll_result={"steps": []})
    response = client.post(f"/sandbox/sessions/{session.connect_token}/token-checks")
    assert response.status_code == HTTPStatus.SEE_OTHER
    summary = client.get(
        f"/sandbox/sessions/{session.connect_token}.json", headers=SANDBOX_KEY
    ).json()
    assert summary["token_checks"]["ok"] is True, summary["token_checks"]
    assert [s["name"] for s in summary["token_checks"]["steps"]] == [
        "tariff_provider_format",
        "tariff_flatpeak_format",
        "refresh_rotates",
        "new_access_token_works",
        "old_refresh_token_refused",
        "reuse_revoked_grant_access",
        "reuse_revoked_grant_refresh",
    ]


@responses.activate
def test_token_checks_fail_against_a_provider_that_does_not_rotate(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    responses.get(TARIFF, json={"name": "x", "schedule": []})
    responses.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "at_other_access_value_1",
            "refresh_token": "rt_first_refresh_token_value_5678",
            "expires_in": 3600,
        },
    )
    session = make_sandbox_session()
    submit(session, authorised_payload())
    SandboxSession.objects.filter(pk=session.pk).update(poll_result={"steps": []})
    client.post(f"/sandbox/sessions/{session.connect_token}/token-checks")
    session.refresh_from_db()
    failed = {s["name"] for s in session.token_checks["steps"] if not s["ok"]}
    assert "refresh_rotates" in failed
    assert session.token_checks["ok"] is False


def test_the_session_json_masks_tokens_and_counts_payloads(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    session = make_sandbox_session()
    submit(session, authorised_payload(), key="k-1")
    submit(session, authorised_payload(), key="k-1")
    response = client.get(f"/sandbox/sessions/{session.connect_token}.json", headers=SANDBOX_KEY)
    body = response.json()
    assert body["status"] == "AUTHORISED"
    assert body["payloads_received"] == 1
    assert body["submission_keys"] == ["k-1"]
    assert len(body["submission_bodies"]) == 1
    assert "at_first_access_token_value_1234" not in response.content.decode()
    assert body["payload"]["auth_data"]["access_token"].startswith("at_fir")


def test_the_sessions_list_shows_recent_outcomes(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    declined = make_sandbox_session(persona="voltcar")
    submit(declined, {"status": "DECLINED", "reason": "user_declined"})
    make_sandbox_session(persona="minimal")
    html = client.get("/sandbox/sessions/", headers=SANDBOX_KEY).content.decode()
    assert "DECLINED (user_declined)" in html
    assert "no decision yet" in html
    assert f"fp_cot={declined.connect_token}" in html


@responses.activate
def test_connect_web_draws_published_prices_with_a_negative_half_hour_below_zero(
    client: Client, make_sandbox_session: MakeSession
) -> None:
    rsps = responses.mock
    rsps.get(
        TARIFF,
        match=[responses.matchers.query_param_matcher({"direction": "IMPORT"})],
        json={"name": "Agile", "currency": "GBP", "timezone": "Europe/London"},
    )
    rsps.get(
        TARIFF,
        match=[
            responses.matchers.query_param_matcher({"direction": "IMPORT", "format": "flatpeak"})
        ],
        json={"type": "COMMODITY", "schedule": [], "market_rates": False},
    )
    rsps.get(
        TARIFF + "/rates",
        json={
            "object": "rates",
            "pricing": "published",
            "published_until": "2026-01-16T00:00:00Z",
            "next_update": "2026-01-15T16:00:00Z",
            "data": [
                {
                    "valid_from": "2026-01-15T13:00:00Z",
                    "valid_to": "2026-01-15T13:30:00Z",
                    "unit_rate": 0.2,
                },
                {
                    "valid_from": "2026-01-15T13:30:00Z",
                    "valid_to": "2026-01-15T14:00:00Z",
                    "unit_rate": -0.05,
                },
            ],
        },
    )
    rsps.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "at_second_access_token_value_abcd",
            "refresh_token": "rt_second_refresh_token_value_efgh",
            "expires_in": 7200,
            "token_type": "Bearer",
        },
    )
    session = make_sandbox_session()
    submit(session, authorised_payload())
    html = client.get("/sandbox/connect-web/", {"fp_cot": session.connect_token}).content.decode()
    assert "published" in html and "2026-01-16T00:00:00Z" in html and "2026-01-15T16:00:00Z" in html
    zero = float(re.search(r'y1="([\d.]+)"[^>]*data-testid="zero-line"', html).group(1))
    rects = re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', html)
    (y_pos, h_pos), (y_neg, h_neg) = ((float(y), float(h)) for y, h in rects)
    assert y_pos + h_pos == pytest.approx(zero)  # above the zero line
    assert y_neg == pytest.approx(zero) and h_neg > 0  # hangs below it
