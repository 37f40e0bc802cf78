from __future__ import annotations

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from provider_auth.security.middleware import content_security_policy

ROOT = Path(__file__).resolve().parents[3]


def _csp(response: Any) -> dict[str, str]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


@pytest.mark.spec("ASVS 14.4.3")
def test_pages_carry_a_csp_without_inline_script_or_framing(client: Any, db: None) -> None:
    response = client.get("/account/security/one-time-code/")
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert (
        csp["script-src"] == "'self'" and "unsafe-inline" not in response["Content-Security-Policy"]
    )
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["img-src"] == "'self'"  # partner logos are served same-origin
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.spec("RFC9700 4.11.1")
@override_settings(FLATPEAK_REDIRECT_HOSTS=["connect.flatpeak.com", "connect.eu.flatpeak.com"])
def test_form_action_allows_us_and_exactly_the_flatpeak_redirect_hosts(
    client: Any, db: None
) -> None:
    form_action = _csp(client.get("/account/security/one-time-code/"))["form-action"].split()
    assert form_action == [
        "'self'",
        "https://connect.flatpeak.com",
        "https://connect.eu.flatpeak.com",
    ]


@override_settings(FLATPEAK_REDIRECT_HOSTS=["good.example", "evil.example; script-src *"])
def test_a_redirect_host_cannot_inject_csp_directives() -> None:
    policy = content_security_policy()
    assert "script-src *" not in policy and "https://good.example" in policy


@pytest.mark.spec("RFC9700 4.2.4")
@pytest.mark.spec("ASVS 14.4.5")
def test_our_urls_never_reach_another_site_as_referrer_and_sniffing_is_off(
    client: Any, db: None
) -> None:
    # No site, FlatPeak's redirect target and partner links included, sees a URL of ours.
    response = client.get("/account/security/one-time-code/")
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.content.decode()
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.spec("ASVS 14.4.5")
def test_https_responses_carry_hsts_in_production(client: Any, db: None) -> None:
    response = client.get("/account/security/one-time-code/")
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "includeSubDomains" in response["Strict-Transport-Security"]


def test_plain_http_is_redirected_to_https_in_production(db: None) -> None:
    from django.test import Client

    response = Client().get("/account/security/one-time-code/")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"].startswith("https://")


@pytest.mark.spec("ASVS 8.2.1")
def test_flow_pages_are_not_stored_by_browsers_or_proxies(client: Any, db: None) -> None:
    response = client.get("/account/security/one-time-code/")
    assert "no-store" in response["Cache-Control"]


def _production_settings() -> dict[str, Any]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="x" * 10 + "-production-like-secret-key-for-this-test-only-0123456789",
        ALLOWED_HOSTS="auth.provider.example",
        DJANGO_SETTINGS_MODULE="provider_auth.settings",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ['SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME',"
        " 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        " 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'LANGUAGE_COOKIE_NAME',"
        " 'LANGUAGE_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.spec("ASVS 3.4.1")
@pytest.mark.spec("ASVS 3.4.2")
@pytest.mark.spec("ASVS 3.4.3")
@pytest.mark.spec("ASVS 3.4.4")
def test_production_cookies_are_host_prefixed_secure_httponly_and_lax() -> None:
    s = _production_settings()
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert s["LANGUAGE_COOKIE_NAME"].startswith("__Host-")
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["LANGUAGE_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"]
    # Lax, not Strict: the first request of a connect flow comes from FlatPeak's site.
    assert s["SESSION_COOKIE_SAMESITE"] == "Lax" and s["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert s["SECURE_HSTS_SECONDS"] >= 31536000 and s["SECURE_SSL_REDIRECT"]


def test_the_session_cookie_set_at_login_has_the_production_attributes(
    client: Any, make_customer: Any, settings: Any
) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-session"
    user = make_customer(password="correct-horse-battery")
    response = client.post(
        "/account/login/", {"username": user.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    cookie = response.cookies["__Host-session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and not cookie["domain"]


@override_settings(BRAND_LOGO="https://assets.solar.example/logo.svg")
def test_images_come_only_from_us_data_and_the_providers_own_logo_host() -> None:
    img_src = dict(
        part.strip().partition(" ")[::2] for part in content_security_policy().split(";")
    )["img-src"]
    assert img_src.split() == ["'self'", "https://assets.solar.example"]


@pytest.mark.parametrize(
    "brand_logo",
    ["brand/lunar-logo.svg", "http://cdn.example/l.png", "https://x.example; script-src *"],
)
def test_a_brand_logo_that_is_not_a_clean_https_url_adds_no_image_source(brand_logo: str) -> None:
    with override_settings(BRAND_LOGO=brand_logo):
        policy = content_security_policy()
    assert "img-src 'self';" in policy and "script-src *" not in policy


@pytest.mark.spec("ASVS 5.1.3")
@pytest.mark.parametrize(
    ("method", "path", "data", "kind"),
    [
        ("get", "/oauth/authorize?client_id=a%00b", None, "oauth"),
        (
            "post",
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": "a\x00"},
            "oauth",
        ),
        ("get", "/api/v1/tariff?direction=IMPORT%00", None, "api"),
        ("get", "/flatpeak/auth?connect_token=cot_%00", None, "page"),
        ("post", "/account/login/", {"username": "a\x00@b.c", "password": "x"}, "page"),
    ],
)
def test_input_with_nul_bytes_gets_a_400_not_a_database_error(
    db: None, method: str, path: str, data: dict | None, kind: str
) -> None:
    from django.test import Client

    response = getattr(Client(), method)(path, data, secure=True)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    if kind == "oauth":
        assert response.json()["error"] == "invalid_request"
    elif kind == "api":
        assert response.json()["object"] == "error"
    else:
        assert response["Content-Type"].startswith("text/html")
        assert "Content-Security-Policy" in response


def test_a_basic_client_id_with_a_nul_byte_is_invalid_client(db: None) -> None:
    import base64

    from django.test import Client

    header = "Basic " + base64.b64encode(b"flat%00peak:secret").decode()
    response = Client().post("/oauth/token", {}, secure=True, HTTP_AUTHORIZATION=header)
    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.spec("ASVS 8.2.1")
@pytest.mark.spec("RFC9700 4.2.4")
def test_every_connect_flow_page_is_no_store_and_keeps_flatpeak_in_form_action(
    settings: Any, make_customer: Any, make_oauth_client: Any
) -> None:
    import responses

    from tests.provider_auth.connect.conftest import API, Browser, FakeFlatPeak

    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key"
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com"]
    make_oauth_client(client_id="flatpeak", name="FlatPeak")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeFlatPeak(mock).context()
        browser = Browser()
        entry = browser.get("/flatpeak/auth", connect_token="cot_68541c4c407600f62fd98a97")
        login_page = browser.get(entry["Location"])
        failed = browser.post(
            browser.action(login_page, "login"), {"username": "x@example.com", "password": "y"}
        )
    for response in (entry, login_page, failed):
        assert "no-store" in response["Cache-Control"], response
        assert "https://connect.flatpeak.com" in _csp(response)["form-action"]
