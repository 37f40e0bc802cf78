"""The device maker's logo: fetched once server-side, served same-origin to the bound browser."""

from __future__ import annotations

import datetime as dt
import logging
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from provider_auth.connect.models import ConnectSession, ConnectSessionLogo, SessionState
from provider_auth.connect.services import connect_sessions_expire
from tests.provider_auth.connect.conftest import (
    PNG,
    TOKEN,
    Browser,
    FakeFlatPeak,
)

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def logo_url(browser: Browser) -> str:
    return browser.step_url + "logo"


@pytest.mark.spec("ASVS 12.5.2")
def test_the_login_page_shows_the_logo_from_our_origin_and_it_is_served_with_safe_headers(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo()
    page = browser.open()
    html = page.content.decode()
    assert f'<img src="{logo_url(browser)}"' in html
    assert "cdn.heatly.example" not in html
    response = browser.get(logo_url(browser))
    assert response.status_code == HTTPStatus.OK
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Cache-Control"] == "private, max-age=600"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_the_logo_is_fetched_once_when_the_session_opens_not_per_page(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo()
    browser.open()
    for _ in range(3):
        assert browser.get(logo_url(browser)).status_code == HTTPStatus.OK
    browser.get(browser.step_url)
    assert fake_flatpeak.logo_calls() == 1


@pytest.mark.spec("ASVS 4.2.1")
def test_another_browser_is_refused_the_logo(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo()
    browser.open()
    other = Browser()
    response = other.get(logo_url(browser))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.content == b""
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_an_unknown_session_has_no_logo(browser: Browser) -> None:
    response = browser.get("/flatpeak/auth/s/not-a-session/logo")
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (SVG, "image/svg+xml", 200, "image/svg+xml"),
        (b"<html>", "image/png", 200, "not an allowed image"),
        (PNG, "image/png", 500, "HTTP 500"),
        (PNG + b"\x00" * 300_000, "image/png", 200, "larger than"),
    ],
)
def test_a_refused_logo_leaves_the_page_with_the_name_and_tells_the_operator_why(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo(body=body, content_type=content_type, status=status)
    with caplog.at_level(logging.INFO):
        page = browser.open()
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "Requested by Heatly Pumps" in html
    assert "<img" not in html.split('class="partner"', 1)[1].split("</div>", 1)[0]
    assert browser.get(logo_url(browser)).status_code == HTTPStatus.NOT_FOUND
    logged = [r.getMessage() for r in caplog.records if "Partner logo" in r.getMessage()]
    assert logged and reason in logged[0] and "cot_…a97" in logged[0]
    assert TOKEN not in caplog.text
    assert not ConnectSessionLogo.objects.exists()


def test_a_redirecting_logo_host_is_not_followed_and_the_flow_goes_on(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo(body=b"", status=302, headers={"Location": "http://169.254.169.254/"})
    page = browser.open()
    assert page.status_code == HTTPStatus.OK
    assert [c.request.url for c in fake_flatpeak.mock.calls if "169.254" in c.request.url] == []
    assert not ConnectSessionLogo.objects.exists()


def test_the_logo_is_no_longer_served_once_the_flow_is_over_and_cleanup_drops_it(
    browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
) -> None:
    fake_flatpeak.context()
    fake_flatpeak.logo()
    page = browser.open()
    fake_flatpeak.acknowledge()
    browser.post(browser.action(page, "cancel"))
    assert ConnectSession.objects.get().state == SessionState.COMPLETED
    assert browser.get(logo_url(browser)).status_code == HTTPStatus.NOT_FOUND
    assert ConnectSessionLogo.objects.count() == 1
    assert connect_sessions_expire(now=timezone.now() + dt.timedelta(minutes=1)) == 0
    assert not ConnectSessionLogo.objects.exists()
    assert ConnectSession.objects.count() == 1  # the decision record stays for the audit trail
