"""Fuzzing with Hypothesis: thousands of hostile inputs, no 5xx, no redirect off our site.

Budgets are per test (`FUZZ_SCALE` multiplies them; CI keeps the default so the whole directory
runs in about a minute). Examples are derandomized when CI=true so a red build reproduces.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
API = "https://api.flatpeak.test"
REDIRECT_HOSTS = ["connect.flatpeak.com"]

settings.register_profile(
    "fuzz",
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)


def budget(n: int) -> Any:
    return settings(settings.get_profile("fuzz"), max_examples=max(10, int(n * SCALE)))


# Text that tends to break parsers: control characters, very long runs, unicode, separators.
nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "",
            "\x00",
            "%00",
            "%",
            "%zz",
            "'\"<script>alert(1)</script>",
            "../../etc/passwd",
            "//evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "\r\nSet-Cookie: x=y",
            "cot_" + "0" * 24,
            "cot_68541c4c407600f62fd98a97",
            "COT_68541C4C407600F62FD98A97",
            "cot_68541c4c407600f62fd98a9",
            "lat_" + "A" * 43,
            "lrt_" + "A" * 43,
            "a" * 5000,
            "☃" * 100,
            "[]",
            "{}",
            "null",
            "-1",
            "1e309",
        ]
    ),
)
param_names = st.one_of(
    st.sampled_from(
        [
            "connect_token",
            "fp_cot",
            "redirect_uri",
            "state",
            "next",
            "grant_type",
            "refresh_token",
            "token",
            "token_type_hint",
            "client_id",
            "client_secret",
            "code",
            "code_verifier",
            "redirect_uri",
            "scope",
            "direction",
            "at",
            "from",
            "to",
            "format",
            "username",
            "password",
            "decision",
            "premise",
            "action",
        ]
    ),
    st.text(min_size=1, max_size=20),
)
form_data = st.dictionaries(param_names, st.one_of(nasty_text, st.lists(nasty_text, max_size=3)))


def assert_safe_response(response: Any, *, allowed_hosts: list[str] = REDIRECT_HOSTS) -> None:
    """No server error; a redirect goes to our own path or a FlatPeak redirect host, over https."""
    assert response.status_code < 500, response.content[:500]
    if 300 <= response.status_code < 400:
        location = response["Location"]
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            assert parts.scheme == "https" and parts.hostname in allowed_hosts, location
        else:
            assert location.startswith("/") and not location.startswith("//"), location
            assert "\\" not in location and "\n" not in location, location


@pytest.fixture
def flatpeak_down_or_unknown(settings: Any, make_oauth_client: Any) -> Iterator[Any]:
    """FlatPeak answers 404 to any session lookup: no network, and a valid-looking token ends
    on the 'link expired' page rather than a real call."""
    import re

    settings.FLATPEAK_API_URL = API
    settings.FLATPEAK_ACCOUNT_ID = "acc_fuzz"
    settings.FLATPEAK_API_KEY = "sk_fuzz"
    # Tries, not the clock, keep failure tests quick: the deadline bounds the whole call,
    # so a tight one would also cut short a healthy answer on a loaded machine.
    settings.FLATPEAK_MAX_ATTEMPTS = 1
    settings.FLATPEAK_RETRY_DEADLINE = 3
    settings.FLATPEAK_REDIRECT_HOSTS = REDIRECT_HOSTS
    settings.RATE_LIMIT_ENABLED = False
    make_oauth_client(client_id=settings.FLATPEAK_OAUTH_CLIENT_ID, name="FlatPeak")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(re.escape(API) + r"/.*"), status=404, json={})
        mock.add(responses.POST, re.compile(re.escape(API) + r"/.*"), status=404, json={})
        yield mock
