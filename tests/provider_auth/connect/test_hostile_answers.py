"""Whatever FlatPeak answers, the flow never fails with a 500 and our records match what it was
told: a refused redirect still completes the decision FlatPeak acknowledged."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oauth.models import Grant, GrantStatus
from tests.provider_auth.connect.conftest import (
    Browser,
    FakeFlatPeak,
    allow,
    context_body,
)

pytestmark = pytest.mark.django_db

HOSTILE_REDIRECTS = {
    "nul": "https://connect.flatpeak.com/done\x00x",
    "soh": "https://connect.flatpeak.com/done\x01",
    "vertical-tab": "\x0bhttps://connect.flatpeak.com/done",
    "del": "https://connect.flatpeak.com/done\x7f",
    "line-separator": "https://connect.flatpeak.com/done\u2028x",
    "lone-surrogate": "https://connect.flatpeak.com/done\ud800",
    "kelvin-host": "https://connect.flatpea\u212a.com/done",
}
HOSTILE_TEXT = {
    "nul": "\x00",
    "soh": "\x01",
    "del": "\x7f",
    "lone-surrogate": "\udc80",
}


@pytest.mark.parametrize("redirect", HOSTILE_REDIRECTS.values(), ids=HOSTILE_REDIRECTS.keys())
def test_a_hostile_redirect_is_refused_and_the_acknowledged_grant_stays_active(
    browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, redirect: str
) -> None:
    fake_flatpeak.acknowledge({"redirect_uri": redirect})
    response = allow(browser, consent)
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == browser.step_url
    page = browser.get(browser.step_url)
    assert page.status_code == HTTPStatus.BAD_GATEWAY
    assert b"cannot send you back" in page.content
    # FlatPeak holds the tokens: our grant is live and the session says so.
    assert Grant.objects.get().status == GrantStatus.ACTIVE
    session = ConnectSession.objects.get()
    assert session.state == SessionState.COMPLETED
    assert session.last_submission_error == "redirect_refused"
    assert session.redirect_target == "" and session.redirect_target_encrypted == ""
    assert len(fake_flatpeak.submissions()) == 1


@pytest.mark.parametrize("char", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
@pytest.mark.parametrize("field", ["display_name", "terms_url", "id"])
def test_a_hostile_context_shows_the_unavailable_page(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, char: str, field: str
) -> None:
    value = f"https://heatly.example/{char}" if field.endswith("_url") else f"Heatly{char}"
    fake_flatpeak.context(context_body(**{field: value}))
    page = browser.open()
    assert page.status_code == HTTPStatus.BAD_GATEWAY
    assert b"temporarily unavailable" in page.content
    assert not ConnectSession.objects.exists()


def test_a_link_with_a_look_alike_character_shows_the_unavailable_page(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context(
        {**context_body(), "connect_web_uri": "https://connect.flatpea\u212a.com/"}
    )
    assert browser.open().status_code == HTTPStatus.BAD_GATEWAY


def test_bidirectional_controls_are_stripped_from_the_partner_name(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context(context_body(display_name="Heatly\u202e spmuP\u202c\u2066"))
    page = browser.open()
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "Heatly spmuP" in html
    assert not any(ch in html for ch in "\u202e\u202c\u2066")
    assert ConnectSession.objects.get().flatpeak_account_name == "Heatly spmuP"
