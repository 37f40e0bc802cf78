"""The harness itself: Chromium starts at phone size, both host names reach one live server."""

from __future__ import annotations

from http import HTTPStatus

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_phone_is_a_touch_screen_390_css_pixels_wide(phone) -> None:
    phone.goto(phone.sites.sandbox + "/sandbox/")
    size = phone.page.evaluate(
        "() => [window.innerWidth, window.devicePixelRatio, 'ontouchstart' in window]"
    )
    assert size == [390, 3, True]


def test_the_sandbox_answers_on_localhost_and_our_brand_css_on_127001(phone) -> None:
    sandbox = phone.goto(phone.sites.sandbox + "/sandbox/")
    ours = phone.goto(phone.sites.endpoint + "/brand.css")
    assert sandbox.status == HTTPStatus.OK
    assert ours.status == HTTPStatus.OK
    assert "--brand:" in ours.text()
