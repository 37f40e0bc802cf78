"""The connect flow's pages and outcomes, end to end through Django, FlatPeak mocked."""

from __future__ import annotations

import datetime as dt
import re
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.models import Direction
from provider_auth.audit.models import AuditEvent
from provider_auth.connect.models import ConnectSession, SessionState
from provider_auth.oauth import tokens
from provider_auth.oauth.models import AccessToken, Grant, GrantStatus, RefreshToken
from tests.provider_auth.connect.conftest import (
    DONE_URL,
    TOKEN,
    Browser,
    FakeFlatPeak,
    allow,
    context_body,
    reach_consent,
)

pytestmark = pytest.mark.django_db


class TestEntry:
    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"connect_token": "cot_123"},
            {"connect_token": "COT_68541C4C407600F62FD98A97"},
            {"connect_token": TOKEN + "<script>"},
            {"fp_cot": "abc"},
        ],
    )
    def test_a_missing_or_malformed_token_gets_a_400_page_before_any_call(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, query: dict[str, str]
    ) -> None:
        response = browser.get("/flatpeak/auth", **query)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert b"This link is not valid" in response.content
        assert fake_flatpeak.context_calls() == 0

    def test_fp_cot_is_accepted_like_connect_token(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
    ) -> None:
        fake_flatpeak.context()
        response = browser.open(param="fp_cot")
        assert response.status_code == HTTPStatus.OK
        assert b"Log in" in response.content

    @pytest.mark.spec("ASVS 5.1.5")
    def test_a_browser_supplied_redirect_uri_is_ignored(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, caplog: Any
    ) -> None:
        fake_flatpeak.context()
        response = browser.get(
            "/flatpeak/auth", connect_token=TOKEN, redirect_uri="https://evil.example/steal"
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"].startswith("/flatpeak/auth/s/")
        assert "Ignoring a browser-supplied redirect_uri" in caplog.text

    def test_the_token_leaves_the_address_bar_for_an_opaque_session_id(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, flatpeak_client: Any
    ) -> None:
        fake_flatpeak.context()
        response = browser.get("/flatpeak/auth", connect_token=TOKEN)
        assert TOKEN not in response["Location"]
        session = ConnectSession.objects.get()
        assert session.public_id in response["Location"]
        assert session.token_hint == "cot_…a97"
        assert TOKEN not in str(session.__dict__)

    @pytest.mark.spec("ASVS 8.2.1")
    def test_flow_pages_are_never_cached(self, login_page: Any) -> None:
        assert "no-store" in login_page["Cache-Control"]

    def test_without_the_flatpeak_oauth_client_the_page_is_temporarily_unavailable(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, caplog: Any
    ) -> None:
        fake_flatpeak.context()
        response = browser.open()
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert b"temporarily unavailable" in response.content
        assert any(r.levelname == "ERROR" for r in caplog.records)


@pytest.mark.usefixtures("flatpeak_client")
class TestLoginPage:
    def test_the_login_page_has_the_accessible_names_and_a_cancel(self, login_page: Any) -> None:
        html = login_page.content.decode()
        assert login_page.status_code == HTTPStatus.OK
        assert '<label for="id_username">Email</label>' in html
        assert '<label for="id_password">Password</label>' in html
        assert ">Log in</button>" in html
        assert "Cancel and enter my tariff another way" in html
        assert "Heatly Pumps" in html

    def test_wrong_credentials_show_one_generic_message_and_the_page_stays(
        self, browser: Browser, customer_with_premise: Any, login_page: Any
    ) -> None:
        unknown = browser.log_in(login_page, "nobody@example.com")
        wrong = browser.log_in(login_page, "ada@example.com", "wrong-password")
        assert unknown.status_code == wrong.status_code == HTTPStatus.UNAUTHORIZED
        message = b"do not match an account"
        assert message in unknown.content and message in wrong.content
        assert b'aria-describedby="login-error"' in wrong.content
        assert ConnectSession.objects.get().login_failed

    def test_a_customer_logged_in_to_the_provider_site_can_continue_as_themselves(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        customer, _premise = customer_with_premise
        browser.client.force_login(customer)
        fake_flatpeak.context()
        page = browser.open()
        assert b"Continue as ada@example.com" in page.content
        assert b"Use another account" in page.content
        response = browser.post(browser.action(page, "login"), {"action": "continue"})
        assert response.status_code == HTTPStatus.SEE_OTHER
        consent = browser.get(response["Location"])
        assert b">Allow</button>" in consent.content

    def test_use_another_account_logs_out_and_keeps_the_flow(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer_with_premise: Any,
        make_customer: Any,
    ) -> None:
        browser.client.force_login(make_customer(email="other@example.com"))
        fake_flatpeak.context()
        page = browser.open()
        response = browser.post(browser.action(page, "login"), {"action": "switch"})
        assert response.status_code == HTTPStatus.SEE_OTHER
        login_page = browser.get(response["Location"])
        assert b"Continue as" not in login_page.content
        assert b'name="password"' in login_page.content
        response = browser.log_in(login_page, "ada@example.com")
        consent = browser.get(response["Location"])
        assert b">Allow</button>" in consent.content

    @pytest.mark.spec("ASVS 4.2.2")
    def test_the_login_form_is_csrf_protected(
        self, browser: Browser, customer_with_premise: Any, login_page: Any
    ) -> None:
        response = browser.client.post(
            browser.action(login_page, "login"),
            {"username": "ada@example.com", "password": "correct-horse-battery"},
            secure=True,
            headers={"Origin": "https://testserver"},
        )
        assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.usefixtures("flatpeak_client")
class TestAllow:
    def test_allow_submits_auth_data_and_redirects_to_flatpeak(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        flatpeak_client: Any,
        customer_with_premise: Any,
    ) -> None:
        customer, premise = customer_with_premise
        consent = reach_consent(browser, fake_flatpeak)
        fake_flatpeak.acknowledge()
        response = allow(browser, consent)

        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == DONE_URL
        (body,) = fake_flatpeak.submitted_bodies()
        assert set(body) == {
            "status",
            "reference_id",
            "auth_data",
            "postal_address",
            "contract_term",
        }
        assert body["status"] == "AUTHORISED"
        assert body["reference_id"] == "PRM-000123"
        assert body["postal_address"] == premise.postal_address()
        auth = body["auth_data"]
        assert auth["token_type"] == "Bearer"
        # FlatPeak's connect flow asks for every data type.
        assert auth["scope"] == "address:read contract:read tariff:read"
        assert auth["client_id"] == "flatpeak"
        assert auth["expires_in"] == 3600
        assert auth["token_endpoint"] == "https://auth.provider.example/oauth/token"
        assert auth["tariff_endpoint"] == "https://auth.provider.example/api/v1/tariff"
        assert auth["revocation_endpoint"] == "https://auth.provider.example/oauth/revoke"
        assert auth["min_poll_interval_seconds"] == 900
        term = body["contract_term"]
        assert term["contract_start_date"].endswith("Z") and term["contract_end_date"].endswith("Z")
        assert fake_flatpeak.submissions()[0].headers["Idempotency-Key"]

        grant = Grant.objects.get()
        assert grant.status == GrantStatus.ACTIVE
        assert (grant.customer, grant.premise, grant.client) == (customer, premise, flatpeak_client)
        assert grant.directions == ["IMPORT"]
        assert grant.display_name == "Heatly Pumps"
        # Only hashes are stored, and they match what FlatPeak received.
        assert AccessToken.objects.get().token_hash == tokens.secret_hash(auth["access_token"])
        assert RefreshToken.objects.get().token_hash == tokens.secret_hash(auth["refresh_token"])

        session = ConnectSession.objects.get()
        assert session.state == SessionState.COMPLETED
        assert session.outcome == "AUTHORISED"
        assert session.payload_encrypted == "" and session.token_encrypted == ""
        assert session.redirect_target == DONE_URL

    def test_the_decision_is_recorded_for_audit(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        customer, premise = customer_with_premise
        consent = reach_consent(browser, fake_flatpeak)
        fake_flatpeak.acknowledge()
        allow(browser, consent)
        event = AuditEvent.objects.get(event="consent.given")
        assert event.customer == customer
        assert event.ip_address == "203.0.113.9"
        assert event.user_agent == "HeatlyApp/2.1 WebView"
        assert event.detail["premise"] == premise.reference
        assert event.detail["flatpeak_account_id"] == "acc_heatly"
        assert event.detail["flatpeak_account_name"] == "Heatly Pumps"
        assert event.detail["outcome"] == "AUTHORISED"
        assert TOKEN not in str(event.detail)
        session = ConnectSession.objects.get()
        assert session.decided_at is not None
        assert session.decision_ip == "203.0.113.9"
        assert session.decision_user_agent == "HeatlyApp/2.1 WebView"

    def test_the_consent_page_shows_what_is_shared_and_the_partner_links(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        fake_flatpeak.logo()
        consent = reach_consent(browser, fake_flatpeak)
        html = consent.content.decode()
        assert "Share your tariff with Heatly Pumps?" in html
        assert "1-3 Strand" in html
        assert "start and end dates" in html
        assert "Until you revoke access" in html
        assert 'href="https://heatly.example/terms"' in html
        assert 'href="https://heatly.example/privacy"' in html
        assert 'href="https://heatly.example/support"' in html
        assert f'src="{browser.step_url}logo"' in html  # same-origin, never the maker's host
        assert "cdn.heatly.example" not in html
        assert ">Deny</button>" in html and "Cancel and enter my tariff another way" in html

    @pytest.mark.spec("ASVS 5.3.3")
    def test_a_script_in_the_display_name_is_escaped(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        fake_flatpeak.context(context_body(display_name="<script>alert(1)</script>"))
        page = browser.open()
        response = browser.log_in(page, "ada@example.com")
        consent = browser.get(response["Location"])
        assert b"<script>alert(1)</script>" not in consent.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in consent.content

    @pytest.mark.spec("ASVS 5.3.3")
    def test_a_javascript_privacy_link_is_not_rendered(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        fake_flatpeak.context(
            context_body(privacy_url="javascript:alert(1)", logo_url="http://x.example/l.png")
        )
        page = browser.open()
        consent = browser.get(browser.log_in(page, "ada@example.com")["Location"])
        assert b"javascript:" not in consent.content
        assert b"privacy policy" not in consent.content
        assert b"http://x.example" not in consent.content

    def test_without_a_redirect_uri_the_browser_goes_to_connect_web_uri_with_fp_cot(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.acknowledge({})
        response = allow(browser, consent)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == f"https://connect.flatpeak.com/continue?fp_cot={TOKEN}"

    @pytest.mark.spec("ASVS 5.1.5")
    def test_a_redirect_host_outside_the_allowlist_is_refused_loudly(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any, caplog: Any
    ) -> None:
        fake_flatpeak.acknowledge({"redirect_uri": "https://evil.example/phish"})
        response = allow(browser, consent)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert "evil.example" not in response["Location"]
        page = browser.get(response["Location"])
        assert page.status_code == HTTPStatus.BAD_GATEWAY
        assert b"evil.example" not in page.content
        assert b"cannot send you back" in page.content
        assert any(r.levelname == "ERROR" for r in caplog.records)

    @pytest.mark.spec("ASVS 5.1.5")
    def test_a_connect_web_uri_outside_the_allowlist_is_refused(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        body = context_body()
        body["connect_web_uri"] = "https://evil.example/continue"
        fake_flatpeak.context(body)
        page = browser.open()
        consent = browser.get(browser.log_in(page, "ada@example.com")["Location"])
        fake_flatpeak.acknowledge({})
        response = allow(browser, consent)
        assert "evil.example" not in response["Location"]


@pytest.mark.usefixtures("flatpeak_client")
class TestOtherOutcomes:
    def test_deny_submits_declined(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.acknowledge()
        response = browser.post(browser.action(consent, "decide"), {"decision": "deny"})
        assert response["Location"] == DONE_URL
        assert fake_flatpeak.submitted_bodies() == [
            {"status": "DECLINED", "reason": "customer_declined"}
        ]
        assert not Grant.objects.exists()
        assert AuditEvent.objects.filter(event="consent.denied").exists()

    def test_cancel_before_any_login_submits_cancelled(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, login_page: Any
    ) -> None:
        fake_flatpeak.acknowledge()
        response = browser.post(browser.action(login_page, "cancel"))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response["Location"] == DONE_URL
        assert fake_flatpeak.submitted_bodies() == [
            {"status": "CANCELLED", "reason": "customer_cancelled"}
        ]

    def test_cancel_after_a_failed_login_submits_login_failed(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer_with_premise: Any,
        login_page: Any,
    ) -> None:
        failed = browser.log_in(login_page, "ada@example.com", "nope-nope-nope")
        fake_flatpeak.acknowledge()
        browser.post(browser.action(failed, "cancel"))
        assert fake_flatpeak.submitted_bodies() == [
            {"status": "LOGIN_FAILED", "reason": "login_failed"}
        ]

    def test_cancel_on_the_consent_page_submits_cancelled(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, consent: Any
    ) -> None:
        fake_flatpeak.acknowledge()
        browser.post(browser.action(consent, "cancel"))
        assert fake_flatpeak.submitted_bodies()[0]["status"] == "CANCELLED"

    def test_a_customer_without_an_active_contract_sees_no_tariff(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        ended = timezone.now() - dt.timedelta(days=1)
        make_contract(
            premise=make_premise(customer=customer),
            start_at=ended - dt.timedelta(days=300),
            end_at=ended,
        )
        page = reach_consent(browser, fake_flatpeak)
        assert b"We found no tariff to share" in page.content
        assert b"Cancel and enter my tariff another way" in page.content
        fake_flatpeak.acknowledge()
        response = browser.post(browser.action(page, "no-tariff"))
        assert response["Location"] == DONE_URL
        assert fake_flatpeak.submitted_bodies() == [
            {"status": "NO_TARIFF", "reason": "no_active_contract"}
        ]

    def test_several_premises_are_offered_as_radio_buttons_labelled_with_the_address(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        home = make_premise(customer=customer, address_line1="1 Home Road", reference="PRM-000001")
        flat = make_premise(customer=customer, address_line1="2 Flat Lane", reference="PRM-000002")
        make_contract(premise=home)
        make_contract(premise=flat)
        page = reach_consent(browser, fake_flatpeak)
        html = page.content.decode()
        assert 'type="radio"' in html
        assert "1 Home Road" in html and "2 Flat Lane" in html
        assert ">Continue</button>" in html
        assert "My address is not listed" in html
        assert "Cancel and enter my tariff another way" in html

        missing = browser.post(browser.action(page, "address"))
        assert missing.status_code == HTTPStatus.BAD_REQUEST
        assert b'aria-describedby="premise-error"' in missing.content

        response = browser.post(browser.action(page, "address"), {"premise": "PRM-000002"})
        assert response.status_code == HTTPStatus.SEE_OTHER
        consent = browser.get(response["Location"])
        assert b"2 Flat Lane" in consent.content
        fake_flatpeak.acknowledge()
        allow(browser, consent)
        assert fake_flatpeak.submitted_bodies()[0]["reference_id"] == "PRM-000002"
        assert Grant.objects.get().premise == flat

    def test_another_customers_premise_cannot_be_chosen(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        make_contract(premise=make_premise(customer=customer))
        make_contract(premise=make_premise(customer=customer))
        make_contract(premise=make_premise(reference="PRM-666666"))
        page = reach_consent(browser, fake_flatpeak)
        response = browser.post(browser.action(page, "address"), {"premise": "PRM-666666"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert ConnectSession.objects.get().premise is None

    def test_my_address_is_not_listed_submits_no_tariff(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        make_contract(premise=make_premise(customer=customer))
        make_contract(premise=make_premise(customer=customer))
        page = reach_consent(browser, fake_flatpeak)
        fake_flatpeak.acknowledge()
        response = browser.post(browser.action(page, "address"), {"not_listed": "1"})
        assert response["Location"] == DONE_URL
        assert fake_flatpeak.submitted_bodies() == [
            {"status": "NO_TARIFF", "reason": "address_not_listed"}
        ]

    def test_an_export_session_offers_the_export_only_premise(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        make_contract(premise=make_premise(customer=customer, address_line1="1 Import Street"))
        solar = make_premise(customer=customer, address_line1="9 Solar Way")
        make_contract(premise=solar, direction=Direction.EXPORT)
        body = context_body()
        body["direction"] = "EXPORT"
        fake_flatpeak.context(body)
        page = browser.open()
        consent = browser.get(browser.log_in(page, "ada@example.com")["Location"])
        assert b"9 Solar Way" in consent.content
        assert b"1 Import Street" not in consent.content
        fake_flatpeak.acknowledge()
        allow(browser, consent)
        assert Grant.objects.get().directions == ["EXPORT"]
        assert fake_flatpeak.submitted_bodies()[0]["reference_id"] == solar.reference

    def test_an_import_session_with_only_an_export_premise_has_no_tariff(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        customer: Any,
        make_premise: Any,
        make_contract: Any,
    ) -> None:
        make_contract(premise=make_premise(customer=customer), direction=Direction.EXPORT)
        page = reach_consent(browser, fake_flatpeak)
        assert b"We found no tariff to share" in page.content


@pytest.mark.usefixtures("flatpeak_client")
class TestSecondFactorAndChart:
    def test_a_customer_with_a_one_time_code_logs_in_after_the_code_and_continues(
        self,
        browser: Browser,
        fake_flatpeak: FakeFlatPeak,
        make_customer: Any,
        make_premise: Any,
        make_contract: Any,
        mailoutbox: Any,
    ) -> None:
        customer = make_customer(email="ada@example.com", requires_email_otp=True)
        make_contract(premise=make_premise(customer=customer))
        fake_flatpeak.context()
        page = browser.open()
        response = browser.log_in(page, "ada@example.com")
        assert response.status_code == HTTPStatus.SEE_OTHER
        otp_page = browser.get(response["Location"])
        assert b"Cancel and enter my tariff another way" in otp_page.content
        assert ConnectSession.objects.get().customer is None  # not before the code
        code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
        verified = browser.post(response["Location"], {"code": code})
        assert verified.status_code == HTTPStatus.SEE_OTHER
        consent = browser.get(verified["Location"])
        assert b">Allow</button>" in consent.content
        assert ConnectSession.objects.get().customer == customer

    def test_the_consent_page_shows_the_tariff_chart(self, consent: Any) -> None:
        assert b"Your tariff: Fixed Saver" in consent.content
        assert b"<svg" in consent.content

    def test_the_consent_page_draws_published_prices_today_and_tomorrow(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        import datetime as dt
        from decimal import Decimal
        from zoneinfo import ZoneInfo

        from django.utils import timezone

        from accounts.models import Pricing
        from accounts.price_import import price_import_target, prices_import
        from tests.accounts.price_files import csv_of, day_rows

        _customer, premise = customer_with_premise
        tariff = premise.contracts.get().tariff
        tariff.pricing = Pricing.PUBLISHED
        tariff.save()
        today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
        rows = []
        for day in (today, today + dt.timedelta(days=1)):
            rows += day_rows(
                day,
                "Europe/London",
                30,
                price=lambda i: Decimal("-0.0100") if i == 3 else Decimal("0.2000"),
            )
        prices_import(
            data=csv_of(rows),
            file_format="csv",
            target=price_import_target(tariff=tariff),
            now=timezone.now(),
        )
        page = reach_consent(browser, fake_flatpeak).content.decode()
        assert "Today" in page and "Tomorrow" in page
        assert "Cheapest -£0.0100 per kWh (" in page


@pytest.mark.usefixtures("flatpeak_client")
class TestMetrics:
    def test_outcomes_and_flatpeak_calls_are_counted(
        self, browser: Browser, fake_flatpeak: FakeFlatPeak, customer_with_premise: Any
    ) -> None:
        def sample(name: str, labels: dict[str, str]) -> float:
            return REGISTRY.get_sample_value(name, labels) or 0.0

        outcomes_before = sample("fp_connect_flow_outcomes_total", {"status": "authorised"})
        calls_before = sample(
            "fp_flatpeak_api_call_seconds_count", {"operation": "submit", "result": "ok"}
        )
        consent = reach_consent(browser, fake_flatpeak)
        fake_flatpeak.acknowledge()
        allow(browser, consent)
        assert (
            sample("fp_connect_flow_outcomes_total", {"status": "authorised"})
            == outcomes_before + 1
        )
        assert (
            sample("fp_flatpeak_api_call_seconds_count", {"operation": "submit", "result": "ok"})
            == calls_before + 1
        )


@pytest.mark.parametrize(("live_mode", "banner"), [(False, True), (True, False)])
def test_flatpeak_test_mode_shows_the_sandbox_banner_when_the_sandbox_is_on(
    browser: Browser,
    fake_flatpeak: FakeFlatPeak,
    flatpeak_client: Any,
    settings: Any,
    live_mode: bool,
    banner: bool,
) -> None:
    settings.SANDBOX_ENABLED = True
    body = context_body()
    body["live_mode"] = live_mode
    fake_flatpeak.context(body)
    page = browser.open()
    assert (b"sandbox-banner" in page.content) is banner


def test_the_decision_ip_is_the_client_behind_our_trusted_proxy(
    fake_flatpeak: FakeFlatPeak, flatpeak_client: Any, customer_with_premise: Any, settings: Any
) -> None:
    settings.AXES_IPWARE_PROXY_COUNT = 1  # TRUSTED_PROXY_COUNT=1
    browser = Browser(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    consent = reach_consent(browser, fake_flatpeak)
    fake_flatpeak.acknowledge()
    allow(browser, consent)
    assert ConnectSession.objects.get().decision_ip == "198.51.100.7"
