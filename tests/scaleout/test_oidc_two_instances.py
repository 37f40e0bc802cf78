"""A federated login (OpenID Connect) that starts on one instance and returns on the other.

The pending login (state, nonce, PKCE verifier) lives in the database-backed session and the
discovery/JWKS cache in Redis, so whichever instance the identity provider's redirect reaches
can finish the login.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from http import HTTPStatus

import pytest

from tests.provider_auth.oidc.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    op_log_in,
    openid_provider_running,
)
from tests.scaleout.conftest import (
    ORIGIN,
    Browser,
    Cluster,
    local_path,
    new_connect_token,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CALLBACK = f"{ORIGIN}/oidc/callback"


@pytest.fixture(scope="module")
def cluster_extra_env() -> Iterator[dict[str, str]]:
    users = {"flow": {"email": "flow@scaleout.example", "email_verified": True}}
    with openid_provider_running(
        redirect_uri=CALLBACK,
        backchannel_logout_uri=f"{ORIGIN}/oidc/backchannel-logout",
        post_logout_redirect_uri=f"{ORIGIN}/account/login/",
        users=users,
    ) as provider:
        yield {
            "OIDC_ISSUER": provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_SCOPES": "openid email",
            "OIDC_CUSTOMER_CLAIM": "email",
        }


def test_a_federated_login_started_on_one_instance_returns_on_the_other(
    cluster: Cluster,
) -> None:
    browser = Browser(cluster)
    token = new_connect_token()
    entry = browser.get(0, f"/flatpeak/auth?connect_token={token}")
    step = local_path(entry.headers["Location"])
    login_page = browser.get(0, step)
    assert "Continue with" in login_page.text
    public_id = re.search(r'name="connect" value="([^"]+)"', login_page.text)
    assert public_id

    start = browser.post(0, "/oidc/login", {"connect": public_id.group(1)})
    assert start.status_code == HTTPStatus.SEE_OTHER, start.text[:500]
    going = browser.get(1, local_path(start.headers["Location"]))
    link = re.search(r'href="([^"]+)"[^>]*id="continue-to-provider"', going.text)
    assert link, going.text[:1000]
    callback = op_log_in(html.unescape(link.group(1)), "flow", redirect_uri=CALLBACK)

    back = browser.get(0, local_path(callback))  # the identity provider's redirect lands on 0
    assert back.status_code == HTTPStatus.SEE_OTHER, back.text[:500]
    assert local_path(back.headers["Location"]) == step
    consent = browser.get(1, step)
    assert consent.status_code == HTTPStatus.OK
    assert 'value="allow"' in consent.text
    [[event_count]] = cluster.sql("SELECT count(*) FROM audit_auditevent WHERE event='oidc.login'")
    assert event_count == 1
