"""The provider's own account pages in real Chromium: accessible, phone-sized, self-contained."""

from __future__ import annotations

from http import HTTPStatus

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(phone, email: str, password: str) -> None:
    phone.page.fill("#id_username", email)
    phone.page.fill("#id_password", password)
    phone.page.get_by_role("button", name="Log in").click()


@pytest.mark.spec("WCAG 2.1 AA")
def test_login_error_and_home_pages_pass_the_accessibility_checks(phone, demo_data) -> None:
    response = phone.goto(phone.sites.endpoint + "/account/")
    assert response.status == HTTPStatus.OK
    assert phone.path() == "/account/login/"
    phone.check("account login")

    _log_in(phone, "bob@example.com", "not-bobs-password")
    phone.page.wait_for_selector("#login-error")
    phone.check("account login wrong password")

    _log_in(phone, "bob@example.com", "bob-demo-pass")
    phone.page.wait_for_url("**/account/")
    assert phone.page.locator("svg[role=img]").count() == 4
    phone.check("account home bob")


def test_carol_sees_no_tariff_and_can_log_out(phone, demo_data) -> None:
    phone.goto(phone.sites.endpoint + "/account/login/")
    _log_in(phone, "carol@example.com", "carol-demo-pass")
    phone.page.wait_for_url("**/account/")
    assert "No tariff is in force at this address today." in phone.page.content()
    phone.check("account home carol")
    phone.page.get_by_role("button", name="Log out").click()
    phone.page.wait_for_url("**/account/login/")
