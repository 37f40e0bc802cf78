"""Pages off the happy path, in both languages: each passes the same checks as the flow."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.browser.flows import DEMO_PASSWORDS, click, flow_start

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_data"),
]


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
def test_a_damaged_link_gets_a_clear_page_not_an_error(phone_factory, locale: str) -> None:
    phone = phone_factory(locale=locale)
    response = phone.goto(phone.sites.endpoint + "/flatpeak/auth?connect_token=not-a-token")
    assert response.status == HTTPStatus.BAD_REQUEST
    phone.check(f"invalid link {locale}")
    expected = "This link is not valid" if locale == "en-GB" else "Dieser Link ist ungültig"
    assert phone.page.get_by_role("heading", level=1).inner_text() == expected


def test_a_form_whose_cookies_were_lost_explains_itself(phone) -> None:
    """A WebView that drops cookies mid-flow gets the 'session expired' page, not a bare 403."""
    flow_start(phone)
    phone.page.context.clear_cookies()
    phone.page.get_by_label("Email").fill("alice@example.com")
    phone.page.get_by_label("Password").fill(DEMO_PASSWORDS["alice@example.com"])
    click(phone, "Log in")
    phone.check("csrf failure")
    heading = phone.page.get_by_role("heading", level=1).inner_text()
    assert heading in {"Your session has expired", "This link was opened in another browser"}


def test_the_security_settings_page_and_logging_out_everywhere(phone) -> None:
    page = phone.page
    phone.goto(phone.sites.endpoint + "/account/security/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["alice@example.com"])
    click(phone, "Log in")
    assert phone.path() == "/account/security/"
    phone.check("security settings")
    click(phone, "Log out everywhere")
    phone.check("logged out everywhere")


def test_the_sandbox_pages_pass_the_same_checks(phone) -> None:
    flow_start(phone)
    phone.goto(phone.sites.sandbox + "/sandbox/sessions/")
    phone.check("sandbox sessions")
    response = phone.goto(phone.sites.sandbox + "/sandbox/connect-web/?fp_cot=nonsense")
    assert response.status == HTTPStatus.BAD_REQUEST
    phone.check("sandbox invalid link")


@pytest.mark.spec("ASVS 4.2.2")
def test_a_post_from_another_site_never_carries_the_customer_s_cookies(phone) -> None:
    """SameSite=Lax in a real browser: another site (the sandbox's host) submitting our login
    form, even with a valid CSRF token copied from our page, is refused."""
    page = phone.page
    flow_start(phone)
    login_action = page.locator("form:has(input[name=password])").get_attribute("action")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    phone.goto(phone.sites.sandbox + "/sandbox/")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.evaluate(
            """([action, token, email, password]) => {
              const form = document.createElement('form');
              form.method = 'post'; form.action = action;
              for (const [name, value] of [['csrfmiddlewaretoken', token], ['action', 'login'],
                                           ['username', email], ['password', password]]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
              }
              document.body.appendChild(form);
              form.submit();
            }""",
            [
                phone.sites.endpoint + login_action,
                token,
                "alice@example.com",
                DEMO_PASSWORDS["alice@example.com"],
            ],
        )
    assert posted.value.status == HTTPStatus.FORBIDDEN
    # Our cookies exist for 127.0.0.1 (positive control), yet none travelled with this POST.
    ours = {c["name"] for c in page.context.cookies(phone.sites.endpoint)}
    assert {"sessionid", "csrftoken"} <= ours
    cookie_header = posted.value.request.all_headers().get("cookie", "")
    assert "sessionid" not in cookie_header
    assert "csrftoken" not in cookie_header
