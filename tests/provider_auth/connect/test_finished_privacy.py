"""A finished connect session shows nothing to a browser that did not open it, and the spent
connect token is not kept in clear."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection

from provider_auth.connect.models import ConnectSession
from tests.provider_auth.connect.conftest import (
    TOKEN,
    Browser,
    FakeFlatPeak,
    allow,
)

pytestmark = pytest.mark.django_db
RETURN_URL = f"https://connect.flatpeak.com/done?fp_cot={TOKEN}&step=2"


def _complete(browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any) -> None:
    fake_flatpeak.acknowledge({"redirect_uri": RETURN_URL})
    assert allow(browser, consent)["Location"] == RETURN_URL


def test_the_spent_token_is_not_stored_in_clear(
    browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
) -> None:
    _complete(browser, fake_flatpeak, consent)
    session = ConnectSession.objects.get()
    assert session.redirect_target == "https://connect.flatpeak.com/done?step=2"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM connect_connectsession")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert TOKEN not in row


def test_the_browser_that_opened_it_still_gets_its_way_back(
    browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
) -> None:
    _complete(browser, fake_flatpeak, consent)
    again = browser.get("/flatpeak/auth", connect_token=TOKEN)
    assert again.status_code == HTTPStatus.OK
    assert b"already finished" in again.content
    assert RETURN_URL.replace("&", "&amp;").encode() in again.content


@pytest.mark.parametrize("path", ["entry", "step"])
def test_another_browser_sees_nothing_of_a_finished_session(
    browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, path: str
) -> None:
    _complete(browser, fake_flatpeak, consent)
    stranger = Browser()
    if path == "entry":
        page = stranger.get("/flatpeak/auth", connect_token=TOKEN)
    else:
        page = stranger.get(browser.step_url)
    assert page.status_code == HTTPStatus.GONE
    html = page.content.decode()
    assert "already been used" in html
    assert "Heatly" not in html
    assert "connect.flatpeak.com" not in html
    # Only the address this browser itself asked for (echoed by the language form) names it.
    assert TOKEN not in html.replace(f"connect_token={TOKEN}", "")
    assert "already finished" not in html
