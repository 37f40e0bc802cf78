"""The refresh grace window holds across instances with the default settings.

Parallel FlatPeak workers, or one retrying after a timeout, may present the same refresh token to
two instances: within OAUTH_REFRESH_GRACE_SECONDS every one of them gets a working pair of the
same grant, and nothing is revoked (RFC 9700 §4.14.2 leaves room for such a window).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest

from tests.scaleout.conftest import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.spec("RFC9700 4.14.2")
def test_twenty_parallel_refreshes_across_both_instances_all_get_a_working_pair(
    cluster: Cluster,
) -> None:
    [pair] = cluster.mint_refresh_tokens(customer="refresh", count=1)

    def refresh(n: int) -> tuple[int, dict[str, str]]:
        response = cluster.token_request(
            n % 2, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        )
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(refresh, range(20)))

    assert [status for status, _ in answers] == [HTTPStatus.OK] * 20, answers
    # Every pair handed out still works on either instance: the grant was not revoked.
    for n, (_, body) in enumerate(answers):
        again = cluster.token_request(
            (n + 1) % 2, grant_type="refresh_token", refresh_token=body["refresh_token"]
        )
        assert again.status_code == HTTPStatus.OK, again.text


def test_a_retry_on_the_other_instance_after_a_timeout_gets_a_pair_and_keeps_the_winners(
    cluster: Cluster,
) -> None:
    [pair] = cluster.mint_refresh_tokens(customer="refresh", count=1)
    first = cluster.token_request(
        0, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )
    assert first.status_code == HTTPStatus.OK, first.text

    retry = cluster.token_request(
        1, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )

    assert retry.status_code == HTTPStatus.OK, retry.text
    winner = cluster.token_request(
        1, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]
    )
    assert winner.status_code == HTTPStatus.OK, winner.text
