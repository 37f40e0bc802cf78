"""With DEBUG off (a staging server), the sandbox's records are for staff or the sandbox key;
its API answers a form body with a 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from sandbox.models import SandboxSession
from tests.sandbox.conftest import SANDBOX_KEY, basic

MakeSession = Callable[..., SandboxSession]


@pytest.fixture
def live(make_sandbox_session: MakeSession) -> SandboxSession:
    return make_sandbox_session()


def test_an_anonymous_visitor_cannot_list_live_connect_tokens(
    client: Client, live: SandboxSession
) -> None:
    response = client.get("/sandbox/sessions/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/account/login/?next=")
    assert live.connect_token not in response.content.decode()


@pytest.mark.spec("ASVS 4.2.1")
def test_an_anonymous_caller_cannot_read_a_sessions_outcome(
    client: Client, live: SandboxSession
) -> None:
    response = client.get(f"/sandbox/sessions/{live.connect_token}.json")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "forbidden"


def test_a_logged_in_customer_is_refused_too(
    client: Client, live: SandboxSession, make_customer: Any
) -> None:
    client.force_login(make_customer())
    assert client.get("/sandbox/sessions/").status_code == HTTPStatus.FORBIDDEN
    assert (
        client.get(f"/sandbox/sessions/{live.connect_token}.json").status_code
        == HTTPStatus.FORBIDDEN
    )


def test_a_wrong_key_is_refused(client: Client, live: SandboxSession) -> None:
    response = client.get(
        f"/sandbox/sessions/{live.connect_token}.json", headers={"X-Sandbox-Key": "guess"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_no_key_configured_means_staff_only(
    client: Client, live: SandboxSession, settings: Any
) -> None:
    settings.SANDBOX_ACCESS_KEY = ""
    response = client.get(
        f"/sandbox/sessions/{live.connect_token}.json", headers={"X-Sandbox-Key": ""}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_staff_and_the_key_holder_see_them(
    client: Client, live: SandboxSession, make_customer: Any
) -> None:
    keyed = client.get(f"/sandbox/sessions/{live.connect_token}.json", headers=SANDBOX_KEY)
    assert keyed.status_code == HTTPStatus.OK
    client.force_login(make_customer(is_staff=True))
    listing = client.get("/sandbox/sessions/")
    assert listing.status_code == HTTPStatus.OK
    assert live.connect_token in listing.content.decode()


def test_the_demo_with_debug_on_stays_open(
    client: Client, live: SandboxSession, settings: Any
) -> None:
    settings.DEBUG = True
    assert client.get("/sandbox/sessions/").status_code == HTTPStatus.OK
    assert client.get(f"/sandbox/sessions/{live.connect_token}.json").status_code == HTTPStatus.OK


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
def test_a_form_body_to_the_sandbox_api_is_a_415_not_a_500(
    client: Client, live: SandboxSession, multipart: bool
) -> None:
    url = f"/sandbox/api/connect/session/{live.connect_token}"
    headers = {"Authorization": basic(), "Idempotency-Key": "k"}
    if multipart:
        response = client.post(url, {"status": "AUTHORISED", "f": b"x"}, headers=headers)
    else:
        response = client.post(
            url,
            "status=AUTHORISED",
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json()["code"] == "unsupported_media_type"
    live.refresh_from_db()
    assert live.status == ""
