from __future__ import annotations

import time
from collections import Counter
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import RequestFactory, override_settings
from django.urls import ResolverMatch

from provider_auth.audit.models import AuditEvent
from provider_auth.security.lockout import lockout_response
from provider_auth.security.login import customer_authenticate
from tests.provider_auth.security.stats import mann_whitney_p

PASSWORD = "correct-horse-battery"


def _request(ip: str = "198.51.100.7") -> Any:
    request = RequestFactory().post("/login", REMOTE_ADDR=ip)
    request.session = {}
    return request


def _attempt(email: str, password: str, ip: str = "198.51.100.7") -> Any:
    return customer_authenticate(request=_request(ip), email=email, password=password)


@pytest.mark.spec("ASVS 2.2.1")
@pytest.mark.spec("RFC6819 4.4.1.11")
def test_five_failures_from_one_ip_lock_that_account_there_even_for_the_right_password(
    make_customer: Any,
) -> None:
    user = make_customer(email="ann@example.com", password=PASSWORD)
    for _ in range(5):
        assert not _attempt(user.email, "wrong").ok
    result = _attempt(user.email, PASSWORD)
    assert result.locked_out and result.user is None
    # Another address is not affected by the (account, IP) lockout.
    assert _attempt(user.email, PASSWORD, ip="198.51.100.8").ok
    assert AuditEvent.objects.filter(event="login.locked_out", customer=user).exists()


@pytest.mark.spec("ASVS 2.2.1")
@override_settings(LOGIN_ACCOUNT_FAILURE_LIMIT=4)
def test_an_account_stops_accepting_logins_after_its_hourly_failures_from_any_ips(
    make_customer: Any,
) -> None:
    user = make_customer(email="bea@example.com", password=PASSWORD)
    for n in range(4):
        assert not _attempt(user.email, "wrong", ip=f"203.0.113.{n + 1}").ok
    result = _attempt(user.email, PASSWORD, ip="203.0.113.99")
    assert result.locked_out and not result.ok


@pytest.mark.spec("ASVS 2.2.1")
@override_settings(LOGIN_IP_FAILURE_LIMIT=3)
def test_one_ip_guessing_across_many_accounts_is_stopped(make_customer: Any) -> None:
    victim = make_customer(email="cat@example.com", password=PASSWORD)
    for n in range(3):
        _attempt(f"someone{n}@example.com", "wrong", ip="192.0.2.50")
    assert _attempt(victim.email, PASSWORD, ip="192.0.2.50").locked_out
    assert _attempt(victim.email, PASSWORD, ip="192.0.2.51").ok


@pytest.mark.spec("ASVS 2.2.1")
@override_settings(LOGIN_ACCOUNT_FAILURE_LIMIT=3)
def test_the_account_ceiling_ignores_email_case_and_spaces(make_customer: Any) -> None:
    user = make_customer(email="dan@example.com", password=PASSWORD)
    for n, spelling in enumerate(["DAN@example.com", " dan@EXAMPLE.com", "dan@example.com "]):
        _attempt(spelling, "wrong", ip=f"203.0.113.{n + 1}")
    assert _attempt(user.email, PASSWORD, ip="203.0.113.200").locked_out


@pytest.mark.spec("ASVS 2.2.1")
def test_unknown_emails_lock_out_exactly_like_real_accounts(make_customer: Any) -> None:
    real = make_customer(email="eve@example.com", password=PASSWORD)
    outcomes: dict[str, list[tuple[bool, bool]]] = {}
    for email in (real.email, "nobody@example.com"):
        outcomes[email] = []
        for _ in range(6):
            result = _attempt(email, "wrong")
            outcomes[email].append((result.ok, result.locked_out))
    assert outcomes[real.email] == outcomes["nobody@example.com"]
    assert outcomes[real.email][-1] == (False, True)


def test_the_locked_page_keeps_the_login_pages_status_and_offers_cancel_in_a_flow(
    db: None,
) -> None:
    from django.http import HttpResponse

    request = RequestFactory().post("/flatpeak/auth/s/abc/login")
    request.resolver_match = ResolverMatch(
        func=lambda r: None,
        args=(),
        kwargs={"public_id": "abc"},
        url_name="login",
        app_names=["connect"],
        namespaces=["connect"],
    )
    response = lockout_response(request, HttpResponse(status=401), None)
    response.render()
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    html = response.content.decode()
    assert "Too many attempts" in html
    assert 'action="/flatpeak/auth/s/abc/cancel"' in html


def test_the_locked_page_outside_a_flow_has_no_cancel(db: None) -> None:
    response = lockout_response(RequestFactory().post("/account/login/"), None, None)
    response.render()
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'class="escape"' not in response.content.decode()


# --- Timing: no enumeration through response time ------------------------------------------
class _LeanArgon2(Argon2PasswordHasher):
    """Real Argon2id, with 16 MiB instead of 100 MiB so a few hundred hashes fit in CI."""

    memory_cost = 16 * 1024


class _CountingArgon2(_LeanArgon2):
    calls: Counter[str] = Counter()

    def encode(self, password: str, salt: str) -> str:
        self.calls["hash"] += 1
        return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        self.calls["hash"] += 1
        return super().verify(password, encoded)


COUNTING = [f"{__name__}._CountingArgon2"]


def _locked_email(email: str) -> None:
    for _ in range(5):
        _attempt(email, "wrong", ip="198.51.100.200")


@pytest.mark.spec("ASVS 2.2.1")
def test_unknown_wrong_and_locked_each_compute_exactly_one_real_password_hash(
    make_customer: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = COUNTING
    user = make_customer(email="fay@example.com", password=PASSWORD)
    locked = make_customer(email="gus@example.com", password=PASSWORD)
    _locked_email(locked.email)
    counts = {}
    for name, email, ip in [
        ("unknown", "nobody@example.com", "198.51.100.1"),
        ("wrong", user.email, "198.51.100.1"),
        ("locked", locked.email, "198.51.100.200"),
    ]:
        _CountingArgon2.calls.clear()
        result = _attempt(email, "not-the-password", ip=ip)
        assert not result.ok
        counts[name] = _CountingArgon2.calls["hash"]
    assert counts == {"unknown": 1, "wrong": 1, "locked": 1}


def _timed(email: str, ip: str) -> float:
    start = time.perf_counter()
    _attempt(email, "not-the-password", ip=ip)
    return time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.spec("ASVS 2.2.1")
def test_response_times_of_unknown_wrong_and_locked_are_statistically_indistinguishable(
    make_customer: Any, settings: Any, monkeypatch: Any
) -> None:
    """Mann–Whitney U on interleaved samples with the real Argon2 hasher.

    The test first proves it has the power to see a leak: a path that skips the hash (what
    axes' lockout did before `password_hash_dummy`) is told apart with p < 1e-6.
    """
    settings.PASSWORD_HASHERS = [f"{__name__}._LeanArgon2"]
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 10_000
    settings.LOGIN_IP_FAILURE_LIMIT = 10_000
    user = make_customer(email="hal@example.com", password=PASSWORD)
    locked = make_customer(email="ivy@example.com", password=PASSWORD)
    _locked_email(locked.email)
    n = 20
    unknown, wrong, locked_t = [], [], []
    for _ in range(n):  # interleave so drift in machine load hits every group alike
        unknown.append(_timed("nobody@example.com", "198.51.100.1"))
        wrong.append(_timed(user.email, "198.51.100.2"))
        locked_t.append(_timed(locked.email, "198.51.100.200"))
    assert mann_whitney_p(unknown, wrong) > 1e-3
    assert mann_whitney_p(unknown, locked_t) > 1e-3
    assert mann_whitney_p(wrong, locked_t) > 1e-3

    # Power check: the same test sees the leak when the locked path skips the hash.
    import provider_auth.security.login as login_module

    real_dummy = login_module.password_hash_dummy
    skip = {"on": False}
    monkeypatch.setattr(
        login_module,
        "password_hash_dummy",
        lambda password: None if skip["on"] else real_dummy(password),
    )
    control, leaky = [], []
    for _ in range(n):
        control.append(_timed(user.email, "198.51.100.2"))
        skip["on"] = True
        leaky.append(_timed(locked.email, "198.51.100.200"))
        skip["on"] = False
    assert mann_whitney_p(control, leaky) < 1e-3


@pytest.mark.spec("ASVS 2.2.1")
def test_in_the_connect_flow_a_lockout_keeps_the_failure_status_and_the_cancel_escape(
    settings: Any, make_customer: Any, make_oauth_client: Any
) -> None:
    import responses

    from tests.provider_auth.connect.conftest import API, Browser, FakeFlatPeak

    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key"
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com"]
    make_oauth_client(client_id="flatpeak", name="FlatPeak")
    user = make_customer(email="kim@example.com", password=PASSWORD)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeFlatPeak(mock).context()
        browser = Browser(REMOTE_ADDR="203.0.113.77")
        page = browser.open()
        login_url = browser.action(page, "login")
        failures = [
            browser.post(login_url, {"username": user.email, "password": "wrong"}) for _ in range(5)
        ]
        locked = browser.post(login_url, {"username": user.email, "password": PASSWORD})
    assert {r.status_code for r in failures} == {locked.status_code}
    assert locked.status_code >= 400
    html = locked.content.decode()
    assert "Too many attempts" in html
    cancel = login_url.rsplit("/", 1)[0] + "/cancel"
    assert f'action="{cancel}"' in html
    assert "_auth_user_id" not in browser.client.session
