"""Property: whatever FlatPeak sends (context and submission answer), the whole flow never
answers 5xx, and our state always matches what FlatPeak was told.

Each example is a fresh connect token and browser against the same customer; FlatPeak is
mocked with `responses`. Runs in CI (kept to a few dozen examples).
"""

from __future__ import annotations

import itertools
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.flatpeak import client as client_module
from provider_auth.flatpeak.client import redirect_host_allowed
from provider_auth.oauth.models import Grant, GrantStatus
from tests.provider_auth.connect.conftest import API, PASSWORD, Browser

pytestmark = pytest.mark.django_db

HOSTILE = ["\x00", "\x01", "\x0b", "\x7f", "\u2028", "\ud800", "\udfff", "\u212a", "\u202e",
           "\u2066", "\u200f", "\u061c", "\x85", "\r\n", " ", "@", "%00", "<script>"]  # fmt: skip
ALLOWED = "https://connect.flatpeak.com"
_tokens = itertools.count(1)


def _token() -> str:
    return f"cot_{next(_tokens):024x}"


def _spiked(base: str) -> st.SearchStrategy[str]:
    """`base` with hostile characters spliced in somewhere (or left clean)."""
    return st.one_of(
        st.just(base),
        st.tuples(
            st.integers(min_value=0, max_value=len(base)),
            st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3),
        ).map(lambda t: base[: t[0]] + "".join(t[1]) + base[t[0] :]),
        st.text(max_size=20),
    )


contexts = st.fixed_dictionaries(
    {
        "account": st.fixed_dictionaries(
            {
                "id": _spiked("acc_heatly"),
                "display_name": _spiked("Heatly Pumps"),
                "terms_url": _spiked("https://heatly.example/terms"),
                "privacy_url": _spiked("https://heatly.example/privacy"),
            }
        ),
        "connect_web_uri": _spiked(f"{ALLOWED}/continue"),
        "redirect_uri": _spiked("https://auth.provider.example/flatpeak/auth"),
        "live_mode": st.booleans(),
    }
)
answers = st.one_of(
    st.tuples(
        st.just(200),
        st.one_of(
            st.fixed_dictionaries({"redirect_uri": _spiked(f"{ALLOWED}/done?x=1")}),
            st.fixed_dictionaries({"redirect_uri": st.integers() | st.none()}),
            st.just({}),
        ).map(json.dumps),
    ),
    st.tuples(st.sampled_from([400, 404, 409, 410, 422, 429, 500, 503]), st.just("{}")),
    st.tuples(st.just(200), st.sampled_from(["", "not json", "\xff"])),
)


# Our own "unavailable", "cannot send you back", "could not complete" and retry pages are 5xx by
# design (the upstream failed); anything else at 5xx is a crash.
DESIGNED_PAGES = (
    b"temporarily unavailable",
    b"cannot send you back",
    b"could not complete",
    b"could not finish connecting",
)


def _no_server_error(response: Any) -> None:
    if response.status_code < 500:
        return
    assert response.status_code in (HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE)
    assert any(text in response.content for text in DESIGNED_PAGES), response.content[:300]


def _local(location: str) -> str | None:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "") if not parts.netloc else None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(context=contexts, answer=answers)
def test_no_answer_from_flatpeak_breaks_the_flow_or_our_records(
    context: dict[str, Any],
    answer: tuple[int, str],
    flatpeak_client: Any,
    customer_with_premise: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.FLATPEAK_RETRY_DEADLINE = 5
    # A transient failure is given up at once: the first backoff already outlasts the deadline.
    monkeypatch.setattr(client_module, "_FIRST_BACKOFF_SECONDS", 60.0)
    token = _token()
    session_url = f"{API}/connect/session/{token}"
    status, body = answer
    browser = Browser(REMOTE_ADDR=f"10.{next(_tokens) % 250}.{next(_tokens) % 250}.7")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(session_url, body=json.dumps(context), content_type="application/json")
        mock.post(session_url, body=body, status=status, content_type="application/json")

        first = browser.get("/flatpeak/auth", connect_token=token)
        _no_server_error(first)
        session = ConnectSession.objects.filter(token_hint=f"cot_…{token[-3:]}").last()
        if first.status_code != HTTPStatus.SEE_OTHER:
            assert first.status_code == HTTPStatus.BAD_GATEWAY  # the "unavailable" page
            assert session is None
            return
        assert session is not None
        login_page = browser.get(first["Location"])
        _no_server_error(login_page)
        logged_in = browser.log_in(login_page, "ada@example.com", PASSWORD)
        assert logged_in.status_code == HTTPStatus.SEE_OTHER
        consent = browser.get(logged_in["Location"])
        assert consent.status_code == HTTPStatus.OK
        decided = browser.post(browser.action(consent, "decide"), {"decision": "allow"})
        assert decided.status_code == HTTPStatus.SEE_OTHER
        local = _local(decided["Location"])
        if local is not None:
            _no_server_error(browser.get(local))
        posts = [c for c in mock.calls if c.request.method == "POST"]

    session.refresh_from_db()
    grant = Grant.objects.get(pk=session.grant_id)
    assert len(posts) >= 1
    assert session.submission_attempts == 1
    redirect = ""
    if status == 200 and body.strip() and body not in ("not json", "\xff"):
        value = json.loads(body).get("redirect_uri")
        redirect = value if isinstance(value, str) else ""
    acknowledged = status == 200 and body not in ("not json", "\xff")
    if acknowledged:
        # FlatPeak holds the tokens: the grant is live whatever else it sent.
        assert session.state == SessionState.COMPLETED
        assert grant.status == GrantStatus.ACTIVE
        if local is None:  # the browser was sent to FlatPeak: an allowed, clean address
            assert redirect_host_allowed(decided["Location"])
            if redirect.strip(" "):
                assert decided["Location"] == redirect.strip(" ")
            else:
                assert decided["Location"].startswith(f"{ALLOWED}/continue")
        else:
            assert session.last_submission_error == "redirect_refused"
            assert session.redirect_target == ""
    elif status in (400, 404, 409, 410, 422):
        assert session.state == SessionState.FAILED
        assert grant.status == GrantStatus.REVOKED
    else:  # 429, 5xx, unreadable: nothing known to FlatPeak for sure; the decision waits
        assert session.state == SessionState.DECIDED
        assert grant.status == GrantStatus.PENDING
