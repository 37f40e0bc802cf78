"""The web tier holds no state (`docs/architecture.md`); two instances behind one "load balancer" agree.

Each scenario alternates requests between instance 0 and instance 1 (two gunicorn processes,
two workers each) that share one PostgreSQL database and one Redis.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import pytest
import requests

from tests.scaleout.conftest import (
    FLATPEAK_RETURN,
    Browser,
    Cluster,
    local_path,
    new_connect_token,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _open_flow(browser: Browser, *, instance: int, token: str) -> str:
    """GET the authentication URI on `instance`; returns the step page path."""
    entry = browser.get(instance, f"/flatpeak/auth?connect_token={token}")
    assert entry.status_code == HTTPStatus.SEE_OTHER, entry.text[:500]
    return local_path(entry.headers["Location"])


def _log_in(browser: Browser, *, instance: int, step: str, email: str, password: str) -> Any:
    return browser.post(
        instance, step + "login", {"action": "login", "username": email, "password": password}
    )


def _to_consent(browser: Browser, cluster: Cluster, *, customer: str, token: str) -> str:
    """Open on instance 0, log in on instance 1; returns the step path (consent page)."""
    step = _open_flow(browser, instance=0, token=token)
    assert browser.get(1, step).status_code == HTTPStatus.OK
    login = _log_in(
        browser,
        instance=1,
        step=step,
        email=cluster.seed["customers"][customer]["email"],
        password=cluster.seed["password"],
    )
    assert login.status_code == HTTPStatus.SEE_OTHER, login.text[:500]
    consent = browser.get(0, step)
    assert consent.status_code == HTTPStatus.OK
    assert 'value="allow"' in consent.text, consent.text[:2000]
    return step


def test_a_connect_flow_started_on_one_instance_finishes_on_the_other(cluster: Cluster) -> None:
    browser = Browser(cluster)
    token = new_connect_token()
    step = _to_consent(browser, cluster, customer="flow", token=token)

    allow = browser.post(1, step + "decide", {"decision": "allow"})

    assert allow.status_code == HTTPStatus.SEE_OTHER
    assert allow.headers["Location"].startswith(f"{FLATPEAK_RETURN}/done")
    [submission] = cluster.flatpeak.submissions_for(token)
    assert submission["body"]["status"] == "AUTHORISED"
    auth_data = submission["body"]["auth_data"]
    # The tokens FlatPeak received work on either instance.
    refreshed = cluster.token_request(
        0, grant_type="refresh_token", refresh_token=auth_data["refresh_token"]
    )
    assert refreshed.status_code == HTTPStatus.OK, refreshed.text



@pytest.fixture(scope="module")
def cluster_extra_env() -> dict[str, str]:
    """No refresh grace window here: these tests prove that reuse is seen across instances.

    With the default window a replay within 30 s is a retry; test_refresh_grace_two_instances.py
    proves that across instances too.
    """
    return {"OAUTH_REFRESH_GRACE_SECONDS": "0"}

@pytest.mark.spec("RFC9700 4.14.2")
def test_a_refresh_token_replayed_on_the_other_instance_is_detected_as_reuse(
    cluster: Cluster,
) -> None:
    [pair] = cluster.mint_refresh_tokens(customer="refresh", count=1)
    first = cluster.token_request(
        0, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )
    assert first.status_code == HTTPStatus.OK, first.text
    rotated = first.json()["refresh_token"]

    replay = cluster.token_request(
        1, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )

    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    # Reuse revokes the whole grant: the token rotated on instance 0 is dead on both.
    for instance in (0, 1):
        after = cluster.token_request(instance, grant_type="refresh_token", refresh_token=rotated)
        assert after.status_code == HTTPStatus.BAD_REQUEST, after.text


@pytest.mark.spec("ASVS 2.2.1")
def test_login_failures_on_both_instances_count_towards_one_lockout(cluster: Cluster) -> None:
    browser = Browser(cluster)
    step = _open_flow(browser, instance=0, token=new_connect_token())
    assert browser.get(1, step).status_code == HTTPStatus.OK  # the login page (and CSRF cookie)
    email = cluster.seed["customers"]["lockout"]["email"]
    for attempt in range(5):  # LOGIN_FAILURE_LIMIT=5, alternating instances
        wrong = _log_in(
            browser, instance=attempt % 2, step=step, email=email, password="wrong-password"
        )
        assert wrong.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.TOO_MANY_REQUESTS)

    # The right password is now refused on both instances: the counter is shared.
    for instance in (0, 1):
        locked = _log_in(
            browser,
            instance=instance,
            step=step,
            email=email,
            password=cluster.seed["password"],
        )
        assert locked.status_code != HTTPStatus.SEE_OTHER, "logged in despite the lockout"
        assert locked.status_code in (
            HTTPStatus.UNAUTHORIZED,
            HTTPStatus.FORBIDDEN,
            HTTPStatus.TOO_MANY_REQUESTS,
        )


@pytest.mark.spec("RFC9700 4.14.2")
def test_twenty_parallel_refreshes_of_one_token_across_both_instances_let_exactly_one_through(
    cluster: Cluster,
) -> None:
    [pair] = cluster.mint_refresh_tokens(customer="refresh", count=1)

    def refresh(n: int) -> int:
        response = cluster.token_request(
            n % 2, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(refresh, range(20)))

    assert statuses.count(HTTPStatus.OK) == 1, statuses
    assert statuses.count(HTTPStatus.BAD_REQUEST) == 19, statuses


def test_ten_parallel_allow_taps_across_both_instances_make_one_grant_and_one_submission(
    cluster: Cluster,
) -> None:
    browser = Browser(cluster)
    token = new_connect_token()
    step = _to_consent(browser, cluster, customer="parallel", token=token)
    customer_id = cluster.seed["customers"]["parallel"]["id"]

    def allow(n: int) -> Any:
        return browser.post(n % 2, step + "decide", {"decision": "allow"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(allow, range(10)))

    # A tap that loses the race gets a redirect or the "already being sent" page, never an error.
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {HTTPStatus.SEE_OTHER, HTTPStatus.OK}, statuses
    assert len(cluster.flatpeak.submissions_for(token)) == 1
    query = f"SELECT count(*) FROM oauth_grant WHERE customer_id = {int(customer_id)}"  # noqa: S608
    [[grants]] = cluster.sql(query)
    assert grants == 1
    # Every tap lands the browser back at FlatPeak or on the step page that says where it went.
    for response in responses:
        if response.status_code == HTTPStatus.SEE_OTHER:
            location = response.headers["Location"]
            assert location.startswith(FLATPEAK_RETURN) or re.match(r"^/flatpeak/auth/s/", location)


def test_metrics_of_an_instance_add_up_all_of_its_workers(cluster: Cluster) -> None:
    """Whichever worker answers /metrics reports events handled by any worker of that instance."""

    def reuse_count() -> float:
        body = requests.get(f"{cluster.instances[1]}/metrics", timeout=10).text
        match = re.search(
            r'^fp_oauth_token_events_total\{event="reuse_detected"\} (\S+)$', body, re.M
        )
        return float(match.group(1)) if match else 0.0

    before = reuse_count()
    # Three grants, each rotated on instance 0 and replayed on instance 1 (spread over its two
    # workers): three reuses. A second replay of one grant would find it revoked already.
    for pair in cluster.mint_refresh_tokens(customer="refresh", count=3):
        assert cluster.token_request(
            0, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        ).ok
        cluster.token_request(1, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert [reuse_count() for _ in range(4)] == [before + 3] * 4
