from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User


@pytest.fixture
def demo(db):
    call_command("seed_demo")


def login(client: Client, email: str, password: str, **extra):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password, **extra}
    )


def test_account_urls_are_mounted_under_account():
    assert reverse("accounts:home") == "/account/"
    assert reverse("accounts:login") == "/account/login/"
    assert reverse("accounts:logout") == "/account/logout/"


@pytest.mark.django_db
def test_the_home_page_needs_a_login(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/account/login/?next=/account/")


@pytest.mark.django_db
def test_the_login_page_has_labelled_fields_and_csrf(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<label for="id_username">' in html and 'id="id_username"' in html
    assert '<label for="id_password">' in html and 'id="id_password"' in html
    assert "csrfmiddlewaretoken" in html
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.spec("ASVS 3.2.1")
def test_logging_in_answers_303_to_the_account_and_rotates_the_session(client, demo):
    client.get(reverse("accounts:login"))
    before = client.cookies.get(settings.SESSION_COOKIE_NAME)
    response = login(client, "Alice@Example.com", "alice-demo-pass")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != (before.value if before else None)


def test_a_wrong_password_shows_an_error_tied_to_the_fields(client, demo):
    response = login(client, "alice@example.com", "wrong-password")
    # 200 from accounts.views; 401 once the hardened login (provider_auth.security) serves the path.
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.UNAUTHORIZED}
    html = response.content.decode()
    assert 'role="alert" id="login-error"' in html
    assert 'aria-describedby="login-error"' in html
    assert "_auth_user_id" not in client.session


def test_an_invalid_email_is_reported_on_its_field(client, demo):
    html = login(client, "not-an-email", "x").content.decode()
    assert 'id="id_username-error"' in html
    assert 'aria-invalid="true" aria-describedby="id_username-error"' in html


@pytest.mark.spec("ASVS 5.1.5")
@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_redirects_off_site(client, demo, next_url):
    response = login(client, "alice@example.com", "alice-demo-pass", next=next_url)
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/"


def test_login_returns_to_a_local_next_path(client, demo):
    response = login(
        client, "alice@example.com", "alice-demo-pass", next="/account/connected-apps/"
    )
    assert response["Location"] == "/account/connected-apps/"


def test_the_login_form_needs_csrf(demo):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("accounts:login"),
        {"username": "alice@example.com", "password": "alice-demo-pass"},
        secure=True,
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_logout_is_post_only_and_answers_303(client, demo):
    login(client, "alice@example.com", "alice-demo-pass")
    assert client.get(reverse("accounts:logout")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/account/login/"
    assert client.get(reverse("accounts:home")).status_code == HTTPStatus.FOUND


def test_alice_sees_her_premise_tariff_and_chart(client, demo):
    login(client, "alice@example.com", "alice-demo-pass")
    response = client.get(reverse("accounts:home"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "1-3 Strand, London, WC2N 5EH" in html
    assert "PRM-000001" in html
    assert "Fixed Saver" in html
    assert html.count("<svg") == 1
    assert "£0.2450 per kWh all day." in html
    assert "bob" not in html.lower()


def test_bob_sees_both_premises_and_the_ev_flex_weekday_and_weekend_charts(client, demo):
    login(client, "bob@example.com", "bob-demo-pass")
    html = client.get(reverse("accounts:home")).content.decode()
    assert "10 Downing Street" in html and "221B Baker Street" in html
    assert "Economy 7" in html and "EV Flex" in html and "Solar Export" in html
    # Economy 7 (1) + EV Flex weekday/weekend (2) + Solar Export (1)
    assert html.count("<svg") == 4
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique on the page"


def test_carol_is_told_no_tariff_is_in_force(client, demo):
    login(client, "carol@example.com", "carol-demo-pass")
    html = client.get(reverse("accounts:home")).content.decode()
    assert "5 Market Street" in html
    assert "No tariff is in force at this address today." in html
    assert "<svg" not in html


def test_the_home_page_reads_a_few_queries_per_contract_and_none_per_rule(client, demo):
    counts = {}
    for email in ("alice@example.com", "bob@example.com"):
        client.force_login(User.objects.get(email=email))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("accounts:home"))
        counts[email] = len(queries)
    # Through the tariff source: session + user + session cut-off + supply points (2), then
    # per contract in force its row, its tariff and all its rules at once (+ a session save on
    # some backends). Alice has one contract (Fixed Saver, one rule); Bob three, on two
    # premises (Economy 7, EV Flex with weekday and weekend rules, Solar Export).
    assert counts["alice@example.com"] <= 5 + 3 + 1
    assert counts["bob@example.com"] <= counts["alice@example.com"] + 2 * 3


def test_headings_are_in_order_on_the_home_page(client, demo):
    login(client, "bob@example.com", "bob-demo-pass")
    html = client.get(reverse("accounts:home")).content.decode()
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


@pytest.mark.spec("ASVS 2.2.1")
def test_the_account_login_is_locked_after_repeated_failures(client, demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice@example.com", "wrong-password")
    response = login(client, "alice@example.com", "alice-demo-pass")
    assert response.status_code != HTTPStatus.SEE_OTHER
    assert "_auth_user_id" not in client.session
