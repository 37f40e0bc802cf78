"""The FlatPeak API client: timeouts, retries, typed errors, tolerant parsing, redaction."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
import requests
import responses

from provider_auth.flatpeak.client import (
    FlatPeakClient,
    SessionContext,
    connect_token_is_valid,
    connect_token_redact,
    redirect_host_allowed,
    url_safe_or_empty,
)
from provider_auth.flatpeak.errors import (
    FlatPeakMisconfigured,
    FlatPeakNotFound,
    FlatPeakRejected,
    FlatPeakUnavailable,
)

TOKEN = "cot_68541c4c407600f62fd98a97"
API = "https://api.flatpeak.test"
SESSION_URL = f"{API}/connect/session/{TOKEN}"


def context_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "connect_session",
        "account": {
            "id": "acc_123",
            "display_name": "Heatly Pumps",
            "logo_url": "https://cdn.heatly.example/logo.png",
            "terms_url": "https://heatly.example/terms",
            "privacy_url": "https://heatly.example/privacy",
            "support_url": "https://heatly.example/support",
            "brand_colour": "#ff0000",
        },
        "redirect_uri": "https://auth.provider.example/flatpeak/auth",
        "connect_web_uri": "https://connect.flatpeak.com/continue",
        "live_mode": False,
        "direction": "EXPORT",
        "something_new": {"nested": True},
    }
    body.update(overrides)
    return body


@pytest.fixture(autouse=True)
def _flatpeak_settings(settings: Any) -> None:
    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key"
    settings.FLATPEAK_RETRY_DEADLINE = 0.3
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com", "localhost:8443"]


FAILURES = [
    ("timeout", requests.exceptions.ReadTimeout("read timed out"), FlatPeakUnavailable),
    ("connect timeout", requests.exceptions.ConnectTimeout("connect"), FlatPeakUnavailable),
    ("connection refused", requests.exceptions.ConnectionError("refused"), FlatPeakUnavailable),
    ("500", 500, FlatPeakUnavailable),
    ("502", 502, FlatPeakUnavailable),
    ("429", 429, FlatPeakUnavailable),
    ("401", 401, FlatPeakMisconfigured),
    ("403", 403, FlatPeakMisconfigured),
    ("404", 404, FlatPeakNotFound),
    ("410", 410, FlatPeakNotFound),
    ("400", 400, FlatPeakRejected),
    ("non-JSON", "<html>oops</html>", FlatPeakUnavailable),
]


def add_failure(method: str, url: str, failure: Any) -> None:
    if isinstance(failure, Exception):
        responses.add(method, url, body=failure)
    elif isinstance(failure, int):
        responses.add(method, url, json={"object": "error", "message": "<b>x</b>"}, status=failure)
    else:
        responses.add(method, url, body=failure, status=200, content_type="text/html")


class TestSessionContextGet:
    @responses.activate
    def test_it_sends_basic_auth_and_a_connect_and_read_timeout(self, settings: Any) -> None:
        settings.FLATPEAK_RETRY_DEADLINE = 60  # per-attempt timeouts never exceed what is left
        responses.get(SESSION_URL, json=context_body())
        FlatPeakClient().session_context_get(connect_token=TOKEN)
        call = responses.calls[0]
        expected = "Basic " + base64.b64encode(b"acc_provider:sk_test_key").decode()
        assert call.request.headers["Authorization"] == expected
        assert call.request.req_kwargs["timeout"] == (3.05, 10.0)

    @responses.activate
    def test_it_parses_the_context_and_ignores_unknown_fields(self) -> None:
        responses.get(SESSION_URL, json=context_body())
        context = FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert context.display_name == "Heatly Pumps"
        assert context.account_id == "acc_123"
        assert context.privacy_url == "https://heatly.example/privacy"
        assert context.connect_web_uri == "https://connect.flatpeak.com/continue"
        assert context.direction == "EXPORT"
        assert context.live_mode is False

    @responses.activate
    def test_the_session_path_is_a_setting(self, settings: Any) -> None:
        settings.FLATPEAK_SESSION_PATH = "/connect/account-info/{connect_token}"
        responses.get(f"{API}/connect/account-info/{TOKEN}", json=context_body())
        assert FlatPeakClient().session_context_get(connect_token=TOKEN).display_name

    @responses.activate
    def test_direction_defaults_to_import(self) -> None:
        body = context_body()
        del body["direction"]
        responses.get(SESSION_URL, json=body)
        assert FlatPeakClient().session_context_get(connect_token=TOKEN).direction == "IMPORT"

    @responses.activate
    def test_a_missing_display_name_is_rejected(self) -> None:
        responses.get(SESSION_URL, json=context_body(account={"logo_url": "https://x.example/l"}))
        with pytest.raises(FlatPeakRejected):
            FlatPeakClient().session_context_get(connect_token=TOKEN)

    @responses.activate
    def test_a_javascript_privacy_link_is_dropped(self) -> None:
        account = context_body()["account"] | {"privacy_url": "javascript:alert(1)"}
        responses.get(SESSION_URL, json=context_body(account=account))
        assert FlatPeakClient().session_context_get(connect_token=TOKEN).privacy_url == ""

    @pytest.mark.parametrize(("name", "failure", "error"), FAILURES, ids=[f[0] for f in FAILURES])
    @responses.activate
    def test_each_failure_raises_its_typed_error(
        self, name: str, failure: Any, error: type
    ) -> None:
        add_failure("GET", SESSION_URL, failure)
        with pytest.raises(error) as raised:
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        if isinstance(failure, Exception):
            assert raised.value.__cause__ is failure

    @responses.activate
    def test_transient_failures_are_retried_within_the_deadline(self) -> None:
        responses.get(SESSION_URL, status=503)
        responses.get(SESSION_URL, json=context_body())
        context = FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert context.display_name == "Heatly Pumps"
        assert len(responses.calls) == 2

    @responses.activate
    def test_retries_stop_at_the_deadline(self, settings: Any) -> None:
        settings.FLATPEAK_RETRY_DEADLINE = 0.5
        responses.get(SESSION_URL, status=500)
        started = time.monotonic()
        with pytest.raises(FlatPeakUnavailable):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert time.monotonic() - started < 0.5
        assert 2 <= len(responses.calls) <= 3  # 0.2 s, then 0.4 s backoff: the deadline ends it

    @responses.activate
    def test_max_attempts_stops_retries_before_the_deadline(self, settings: Any) -> None:
        settings.FLATPEAK_RETRY_DEADLINE = 10
        settings.FLATPEAK_MAX_ATTEMPTS = 2
        responses.get(SESSION_URL, status=503)
        started = time.monotonic()
        with pytest.raises(FlatPeakUnavailable):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert len(responses.calls) == 2
        assert time.monotonic() - started < 1  # one backoff (0.2-0.25 s), not ten seconds

    @responses.activate
    def test_a_retry_after_beyond_the_deadline_is_not_waited_for(self) -> None:
        responses.get(SESSION_URL, status=429, headers={"Retry-After": "20"})
        started = time.monotonic()
        with pytest.raises(FlatPeakUnavailable):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert time.monotonic() - started < 0.2
        assert len(responses.calls) == 1

    @responses.activate
    def test_permanent_failures_are_not_retried(self) -> None:
        responses.get(SESSION_URL, status=404)
        with pytest.raises(FlatPeakNotFound):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert len(responses.calls) == 1

    @responses.activate
    @pytest.mark.spec("ASVS 7.1.1")
    def test_logs_show_the_connect_token_only_shortened(self, caplog: Any) -> None:
        caplog.set_level(logging.INFO, logger="provider_auth.flatpeak")
        responses.get(SESSION_URL, status=500)
        with pytest.raises(FlatPeakUnavailable):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert "cot_…a97" in caplog.text
        assert TOKEN not in caplog.text
        assert "sk_test_key" not in caplog.text

    @responses.activate
    def test_misconfiguration_is_logged_loudly(self, caplog: Any) -> None:
        responses.get(SESSION_URL, status=401)
        with pytest.raises(FlatPeakMisconfigured):
            FlatPeakClient().session_context_get(connect_token=TOKEN)
        assert any(r.levelno == logging.ERROR for r in caplog.records)


class TestSessionSubmit:
    PAYLOAD = {"status": "DECLINED", "reason": "customer_declined"}

    @responses.activate
    def test_it_posts_the_body_with_the_idempotency_key(self) -> None:
        responses.post(SESSION_URL, json={"redirect_uri": "https://connect.flatpeak.com/done"})
        result = FlatPeakClient().session_submit(
            connect_token=TOKEN, payload=self.PAYLOAD, idempotency_key="key-1"
        )
        assert result.redirect_uri == "https://connect.flatpeak.com/done"
        request = responses.calls[0].request
        assert request.headers["Idempotency-Key"] == "key-1"
        assert json.loads(request.body) == self.PAYLOAD

    @responses.activate
    def test_method_and_path_are_settings(self, settings: Any) -> None:
        settings.FLATPEAK_SUBMIT_METHOD = "put"
        settings.FLATPEAK_SUBMIT_PATH = "/connect/session/{connect_token}/status"
        responses.put(f"{SESSION_URL}/status", json={})
        result = FlatPeakClient().session_submit(
            connect_token=TOKEN, payload=self.PAYLOAD, idempotency_key="k"
        )
        assert result.redirect_uri == ""

    @responses.activate
    def test_an_empty_acknowledgement_has_no_redirect(self) -> None:
        responses.post(SESSION_URL, body="", status=204)
        result = FlatPeakClient().session_submit(
            connect_token=TOKEN, payload=self.PAYLOAD, idempotency_key="k"
        )
        assert result.redirect_uri == ""

    @responses.activate
    def test_a_retried_post_resends_the_same_body_and_key(self) -> None:
        responses.post(SESSION_URL, body=requests.exceptions.ConnectionError("reset"))
        responses.post(SESSION_URL, json={"redirect_uri": "https://connect.flatpeak.com/x"})
        FlatPeakClient().session_submit(
            connect_token=TOKEN, payload=self.PAYLOAD, idempotency_key="same-key"
        )
        assert len(responses.calls) == 2
        first, second = (c.request for c in responses.calls)
        assert first.body == second.body
        assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "same-key"

    @pytest.mark.parametrize(("name", "failure", "error"), FAILURES, ids=[f[0] for f in FAILURES])
    @responses.activate
    def test_each_failure_raises_its_typed_error(
        self, name: str, failure: Any, error: type
    ) -> None:
        add_failure("POST", SESSION_URL, failure)
        with pytest.raises(error):
            FlatPeakClient().session_submit(
                connect_token=TOKEN, payload=self.PAYLOAD, idempotency_key="k"
            )


class TestHelpers:
    @pytest.mark.parametrize(
        ("value", "valid"),
        [
            (TOKEN, True),
            ("cot_68541C4C407600F62FD98A97", False),
            ("cot_68541c4c407600f62fd98a9", False),
            ("cot_68541c4c407600f62fd98a977", False),
            ("xyz_68541c4c407600f62fd98a97", False),
            ("", False),
            (None, False),
        ],
    )
    def test_connect_tokens_are_cot_and_24_lowercase_hex(self, value: Any, valid: bool) -> None:
        assert connect_token_is_valid(value) is valid

    def test_a_connect_token_is_redacted_to_its_last_three_characters(self) -> None:
        assert connect_token_redact(TOKEN) == "cot_…a97"

    @pytest.mark.parametrize(
        ("url", "allowed"),
        [
            ("https://connect.flatpeak.com/x?y=1", True),
            ("https://CONNECT.FlatPeak.com/x", True),
            ("https://connect.flatpeak.com:443/x", False),
            ("https://localhost:8443/x", True),
            ("https://localhost/x", False),
            ("http://connect.flatpeak.com/x", False),
            ("https://evil.example/x", False),
            ("https://connect.flatpeak.com.evil.example/x", False),
            ("https://user@connect.flatpeak.com/x", False),
            ("javascript:alert(1)", False),
            ("//connect.flatpeak.com/x", False),
            ("", False),
        ],
    )
    def test_redirect_hosts_are_checked_against_the_allowlist(
        self, url: str, allowed: bool
    ) -> None:
        assert redirect_host_allowed(url) is allowed

    def test_plain_http_redirects_are_allowed_only_in_debug(self, settings: Any) -> None:
        settings.DEBUG = True
        assert redirect_host_allowed("http://connect.flatpeak.com/x")

    @pytest.mark.parametrize(
        "url",
        ["javascript:alert(1)", "data:text/html,x", "http://x.example/", "ftp://x/", "https://"],
    )
    def test_unsafe_links_are_dropped(self, url: str) -> None:
        assert url_safe_or_empty(url) == ""

    def test_a_context_survives_its_snapshot(self) -> None:
        context = SessionContext.from_api(context_body())
        assert SessionContext.from_dict(context.to_dict()) == context
