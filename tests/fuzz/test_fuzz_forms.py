from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Direction
from tests.fuzz.conftest import API, REDIRECT_HOSTS, assert_safe_response, budget, form_data
from tests.provider_auth.connect.conftest import Browser, FakeFlatPeak

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def open_flow(
    settings: Any, make_customer: Any, make_premise: Any, make_contract: Any, make_oauth_client: Any
) -> Iterator[Browser]:
    """A browser inside a connect flow (FlatPeak mocked), on the login page."""
    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_fuzz"
    settings.FLATPEAK_API_KEY = "sk_fuzz"
    # Tries, not the clock, keep failure tests quick: the deadline bounds the whole call,
    # so a tight one would also cut short a healthy answer on a loaded machine.
    settings.FLATPEAK_MAX_ATTEMPTS = 1
    settings.FLATPEAK_RETRY_DEADLINE = 3
    settings.FLATPEAK_REDIRECT_HOSTS = REDIRECT_HOSTS
    settings.RATE_LIMIT_ENABLED = False
    make_oauth_client(client_id="flatpeak", name="FlatPeak")
    customer = make_customer(email="ada@example.com")
    for n in range(2):
        premise = make_premise(customer=customer, reference=f"PRM-00012{n}")
        make_contract(premise=premise, direction=Direction.IMPORT)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        flatpeak = FakeFlatPeak(mock)
        flatpeak.context()
        flatpeak.acknowledge()
        browser = Browser(REMOTE_ADDR="203.0.113.9")
        page = browser.open()
        assert page.status_code == 200
        browser.login_page = page
        yield browser


@pytest.mark.spec("ASVS 5.1.3")
@budget(1000)
@given(
    step=st.sampled_from(["login", "address", "decide", "no-tariff", "cancel", "retry"]),
    data=form_data,
    with_csrf=st.booleans(),
)
def test_the_flow_forms_survive_any_post(
    open_flow: Browser, step: str, data: dict[str, Any], with_csrf: bool
) -> None:
    base = re.sub(r"/[^/]*$", "", open_flow.action(open_flow.login_page, "login"))
    url = f"{base}/{step}"
    if with_csrf:
        response = open_flow.post(url, data)
    else:
        response = open_flow.client.post(url, data, secure=True)
    assert_safe_response(response)


@pytest.mark.spec("ASVS 5.1.3")
@budget(600)
@given(
    data=form_data, path=st.sampled_from(["/account/login/", "/account/security/one-time-code/"])
)
def test_the_login_and_one_time_code_forms_survive_any_post(
    settings: Any, make_customer: Any, data: dict[str, Any], path: str
) -> None:
    from tests.fuzz.test_fuzz_http import _client

    settings.RATE_LIMIT_ENABLED = False
    response = _client().post(path, data, secure=True)
    assert_safe_response(response)
