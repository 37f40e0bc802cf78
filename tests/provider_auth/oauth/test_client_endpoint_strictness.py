"""The client endpoints (/oauth/token, /oauth/revoke, /oauth/introspect) read requests exactly
as RFC 6749, RFC 7009, RFC 7662 and RFC 7617 write them, and refuse the rest."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.core.management import CommandError, call_command
from django.test.client import MULTIPART_CONTENT

from provider_auth.oauth import tokens
from provider_auth.oauth.front_door import client_rate_limit_scope, key_client
from provider_auth.oauth.models import GrantStatus, OAuthClient, RefreshToken
from provider_auth.security.ratelimit import rate_limit_peek

from .conftest import FORM, REDIRECT_URI, basic

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]


def valid_body(path: str, refresh_token: str) -> dict[str, str]:
    if path == "/oauth/token":
        return {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return {"token": refresh_token}


def raw_post(client: Any, path: str, body: str, *, auth: Any = None, **extra: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": basic(auth[0].client_id, auth[1])} if auth else {}
    extra.setdefault("content_type", FORM)
    return client.post(path, body, secure=True, **headers, **extra)


def assert_invalid_request(response: Any) -> None:
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"


def assert_not_rotated(refresh_token: str) -> None:
    token = RefreshToken.objects.get(token_hash=tokens.secret_hash(refresh_token))
    assert token.used_at is None
    assert token.grant.status == GrantStatus.ACTIVE


# --- Form encoding ---------------------------------------------------------------------------
@pytest.mark.spec("RFC6749 3.1")
@pytest.mark.spec("RFC6749 3.2")
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("repeated", ["refresh_token_or_token", "grant_type", "client_id"])
def test_a_repeated_parameter_is_invalid_request(
    client: Any, flatpeak: Any, active_tokens: Any, path: str, repeated: str
) -> None:
    _grant, issued = active_tokens()
    pairs = list(valid_body(path, issued.refresh_token).items())
    if repeated == "refresh_token_or_token":
        pairs.append((pairs[-1][0], issued.refresh_token))
    elif repeated == "grant_type":
        pairs += [("grant_type", "refresh_token"), ("grant_type", "refresh_token")]
    else:
        pairs += [("client_id", flatpeak[0].client_id)] * 2
    response = raw_post(client, path, urlencode(pairs), auth=flatpeak)
    assert_invalid_request(response)
    assert_not_rotated(issued.refresh_token)


@pytest.mark.spec("RFC6749 3.2")
@pytest.mark.spec("RFC6749 2.3.1")
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("query", ["client_secret=x", "refresh_token=x", "anything=1"])
def test_parameters_in_the_url_of_a_post_are_refused(
    client: Any, flatpeak: Any, active_tokens: Any, path: str, query: str
) -> None:
    _grant, issued = active_tokens()
    body = urlencode(valid_body(path, issued.refresh_token))
    response = raw_post(client, f"{path}?{query}", body, auth=flatpeak)
    assert_invalid_request(response)
    assert_not_rotated(issued.refresh_token)


@pytest.mark.spec("RFC6749 6")
@pytest.mark.spec("RFC7009 2.1")
@pytest.mark.spec("RFC7662 2.1")
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["multipart", "application/json", "text/plain", ""])
def test_only_form_urlencoded_bodies_are_accepted(
    client: Any, flatpeak: Any, active_tokens: Any, path: str, content_type: str
) -> None:
    _grant, issued = active_tokens()
    data = valid_body(path, issued.refresh_token)
    auth = {"HTTP_AUTHORIZATION": basic(flatpeak[0].client_id, flatpeak[1])}
    if content_type == "multipart":
        response = client.post(path, data, content_type=MULTIPART_CONTENT, secure=True, **auth)
    elif content_type == "application/json":
        response = client.post(path, data, content_type=content_type, secure=True, **auth)
    else:
        response = client.generic(
            "POST",
            path,
            urlencode(data),
            content_type=content_type,
            secure=True,
            **auth,
        )
    assert_invalid_request(response)
    assert_not_rotated(issued.refresh_token)


@pytest.mark.spec("RFC6749 6")
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded;charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded; charset=utf-8",
    ],
)
def test_a_charset_parameter_on_the_form_content_type_is_fine(
    client: Any, flatpeak: Any, active_tokens: Any, content_type: str
) -> None:
    _grant, issued = active_tokens()
    body = urlencode(valid_body("/oauth/token", issued.refresh_token))
    response = raw_post(client, "/oauth/token", body, auth=flatpeak, content_type=content_type)
    assert response.status_code == HTTPStatus.OK, response.content


@pytest.mark.spec("RFC6749 5.2")
def test_a_repeated_parameter_with_a_name_outside_ascii_is_still_a_clean_invalid_request(
    client: Any, flatpeak: Any
) -> None:
    body = "grant_type=refresh_token&refresh_token=x&%C2%A2%C2%8C=1&%C2%A2%C2%8C=2"
    response = raw_post(client, "/oauth/token", body, auth=flatpeak)
    assert_invalid_request(response)
    assert response.json()["error_description"] == "Repeated parameter."


# --- Missing and empty parameters --------------------------------------------------------------
@pytest.mark.spec("RFC6749 3.1")
@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"grant_type": ""},
        {"grant_type": "", "refresh_token": "lrt_x"},
        {"grant_type": "refresh_token"},
        {"grant_type": "refresh_token", "refresh_token": ""},
    ],
)
def test_a_missing_or_empty_parameter_at_the_token_endpoint_is_invalid_request(
    client: Any, flatpeak: Any, body: dict[str, str]
) -> None:
    assert_invalid_request(raw_post(client, "/oauth/token", urlencode(body), auth=flatpeak))


@pytest.mark.spec("RFC6749 4.1.3")
@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.parametrize("emptied", ["code", "redirect_uri", "code_verifier"])
@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_missing_or_empty_code_grant_parameter_is_invalid_request(
    client: Any, partner: Any, obtain_code: Any, emptied: str, how: str
) -> None:
    code, verifier = obtain_code()
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    if how == "missing":
        del body[emptied]
    else:
        body[emptied] = ""
    assert_invalid_request(raw_post(client, "/oauth/token", urlencode(body), auth=partner))


@pytest.mark.spec("RFC7009 2.1")
@pytest.mark.spec("RFC7662 2.1")
@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "", "token_type_hint": "x"}])
def test_a_missing_or_empty_token_is_invalid_request(
    client: Any, flatpeak: Any, path: str, body: dict[str, str]
) -> None:
    assert_invalid_request(raw_post(client, path, urlencode(body), auth=flatpeak))


# --- Client authentication -----------------------------------------------------------------------
@pytest.mark.spec("RFC6749 2.3")
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("in_body", ["secret", "secret_and_id", "other_id"])
def test_basic_and_credentials_in_the_body_together_are_invalid_request(
    client: Any, flatpeak: Any, make_oauth_client: Any, active_tokens: Any, path: str, in_body: str
) -> None:
    _grant, issued = active_tokens()
    other = make_oauth_client(client_id="other")
    body = valid_body(path, issued.refresh_token)
    if in_body == "secret":
        body["client_secret"] = flatpeak[1]
    elif in_body == "secret_and_id":
        body |= {"client_id": flatpeak[0].client_id, "client_secret": flatpeak[1]}
    else:
        body["client_id"] = other[0].client_id
    assert_invalid_request(raw_post(client, path, urlencode(body), auth=flatpeak))
    assert_not_rotated(issued.refresh_token)


@pytest.mark.spec("RFC6749 3.2.1")
def test_a_body_client_id_equal_to_the_basic_one_only_identifies_the_client(
    client: Any, flatpeak: Any, active_tokens: Any
) -> None:
    _grant, issued = active_tokens()
    body = valid_body("/oauth/token", issued.refresh_token) | {"client_id": flatpeak[0].client_id}
    response = raw_post(client, "/oauth/token", urlencode(body), auth=flatpeak)
    assert response.status_code == HTTPStatus.OK, response.content


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


def _client_with(make_oauth_client: Any, *, client_id: str, secret: str) -> OAuthClient:
    created, _ = make_oauth_client(client_id=client_id)
    created.client_secret_hash = tokens.secret_hash(secret)
    created.save(update_fields=["client_secret_hash"])
    return created


def _basic_raw(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.spec("RFC6749 2.3.1")
@pytest.mark.spec("RFC7617 2")
def test_basic_credentials_are_form_urlencoded_inside(
    client: Any, make_oauth_client: Any, settings: Any
) -> None:
    # The counters this test reads back live in this process's memory (not a shared Redis).
    settings.CACHES = {"default": {"BACKEND": LOCMEM, "LOCATION": "basic-credentials"}}
    # A client registered before ids and secrets had to be URL-safe.
    secret = "s3cret with+plus/slash:colon%percent ü" + "x" * 16
    _client_with(make_oauth_client, client_id="old client", secret=secret)
    body = urlencode({"token": "lat_unknown"})

    def status(authorization: str) -> int:
        response = client.post(
            "/oauth/introspect",
            body,
            content_type=FORM,
            secure=True,
            HTTP_AUTHORIZATION=authorization,
        )
        return response.status_code

    # "+" is a space and %XX a UTF-8 byte, as application/x-www-form-urlencoded says
    assert status(_basic_raw(quote_plus("old client"), quote_plus(secret))) == HTTPStatus.OK
    assert status(_basic_raw(quote("old client"), quote(secret, safe=""))) == HTTPStatus.OK
    # unencoded, the "+" of the secret reads as a space: no match
    assert status(_basic_raw("old%20client", secret)) == HTTPStatus.UNAUTHORIZED
    # the per-client rate limit counts the client the server authenticated, by its id
    counted = rate_limit_peek(
        scope=client_rate_limit_scope("introspection"), key=key_client("old client"), window=60
    )
    assert counted == 2


@pytest.mark.spec("RFC6749 2.3.1")
@pytest.mark.parametrize("credentials", ["flatpeak:%FF%FE", "%C3%28:secret", "flatpeak:%"])
def test_basic_credentials_that_do_not_decode_are_invalid_client_not_a_crash(
    client: Any, flatpeak: Any, credentials: str
) -> None:
    authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
    response = client.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": "lrt_x"}),
        content_type=FORM,
        secure=True,
        HTTP_AUTHORIZATION=authorization,
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.spec("RFC7617 2")
@pytest.mark.parametrize("path", ENDPOINTS)
def test_invalid_client_is_401_with_a_basic_challenge_and_one_message_for_every_cause(
    client: Any, flatpeak: Any, active_tokens: Any, path: str
) -> None:
    _grant, issued = active_tokens()
    body = valid_body(path, issued.refresh_token)
    client_id = flatpeak[0].client_id
    attempts = {
        "unknown client (Basic)": {"HTTP_AUTHORIZATION": basic("nobody", flatpeak[1])},
        "wrong secret (Basic)": {"HTTP_AUTHORIZATION": basic(client_id, flatpeak[1] + "x")},
        "unknown client (body)": {"client_id": "nobody", "client_secret": flatpeak[1]},
        "wrong secret (body)": {"client_id": client_id, "client_secret": flatpeak[1] + "x"},
        "no credentials": {},
        "malformed Basic": {"HTTP_AUTHORIZATION": "Basic !!!"},
    }
    answers = set()
    for name, attempt in attempts.items():
        headers = {k: v for k, v in attempt.items() if k.startswith("HTTP_")}
        form = body | {k: v for k, v in attempt.items() if not k.startswith("HTTP_")}
        response = client.post(path, urlencode(form), content_type=FORM, secure=True, **headers)
        assert response.status_code == HTTPStatus.UNAUTHORIZED, (name, response.content)
        assert response["WWW-Authenticate"] == 'Basic realm="oauth"', name
        assert response["Cache-Control"] == "no-store", name
        answers.add(response.content)
    assert len(answers) == 1, answers  # nothing tells an unknown id from a wrong secret
    assert json.loads(answers.pop()) == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert_not_rotated(issued.refresh_token)


# --- Revocation and introspection --------------------------------------------------------------
@pytest.mark.spec("RFC7662 2.1")
@pytest.mark.parametrize("hint", ["id_token", "urn:x", "ACCESS_TOKEN"])
def test_introspection_ignores_an_unknown_token_type_hint(
    client: Any, flatpeak: Any, active_tokens: Any, hint: str
) -> None:
    _grant, issued = active_tokens()
    body = urlencode({"token": issued.access_token, "token_type_hint": hint})
    response = raw_post(client, "/oauth/introspect", body, auth=flatpeak)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["active"] is True


@pytest.mark.spec("RFC7009 2.1")
@pytest.mark.spec("RFC7009 2.2.1")
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_another_clients_token_is_unauthorized_client(
    client: Any, make_oauth_client: Any, active_tokens: Any, which: str
) -> None:
    grant, issued = active_tokens()
    other = make_oauth_client(client_id="other")
    body = urlencode({"token": getattr(issued, which)})
    response = raw_post(client, "/oauth/revoke", body, auth=other)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unauthorized_client"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE


# --- create_oauth_client ----------------------------------------------------------------------------
@pytest.mark.spec("RFC7617 2")
@pytest.mark.parametrize("client_id", ["flat:peak", "flat peak", "flat+peak", "flat%20peak", "ü"])
def test_create_oauth_client_refuses_ids_that_basic_cannot_carry_unchanged(client_id: str) -> None:
    with pytest.raises(CommandError, match="client_id"):
        call_command("create_oauth_client", "--name", "X", "--client-id", client_id)
    assert not OAuthClient.objects.exists()


@pytest.mark.spec("RFC6749 2.3.1")
@pytest.mark.parametrize("bad", [" ", "+", "%", ":", "/", "=", "ü", "&"])
def test_create_oauth_client_refuses_secrets_that_are_not_url_safe(bad: str) -> None:
    secret = "a" * 20 + bad + "b" * 20
    with pytest.raises(CommandError, match="URL|letters, digits"):
        call_command(
            "create_oauth_client", "--name", "X", "--client-id", "x", "--client-secret", secret
        )
    assert not OAuthClient.objects.exists()


def test_create_oauth_client_accepts_a_url_safe_secret() -> None:
    secret = "Az09-._~" * 5
    call_command(
        "create_oauth_client", "--name", "X", "--client-id", "x.y-z_1~", "--client-secret", secret
    )
    assert OAuthClient.objects.get(client_id="x.y-z_1~").check_client_secret(secret)


# --- Bearer header at the tariff API ---------------------------------------------------------
@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer {token} extra", "Bearer a b"])
def test_an_empty_or_malformed_bearer_header_is_400_invalid_request(
    client: Any, active_tokens: Any, header: str
) -> None:
    _grant, issued = active_tokens()
    response = client.get(
        "/api/v1/tariff",
        HTTP_AUTHORIZATION=header.format(token=issued.access_token),
        secure=True,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "invalid_request"
    assert response["WWW-Authenticate"].startswith('Bearer realm="tariff"')
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize("header", [None, "Basic Zm9vOmJhcg==", "Token {token}", "Digest x=1"])
def test_another_scheme_gets_the_bare_challenge_of_a_request_without_credentials(
    client: Any, active_tokens: Any, header: str | None
) -> None:
    _grant, issued = active_tokens()
    extra = (
        {} if header is None else {"HTTP_AUTHORIZATION": header.format(token=issued.access_token)}
    )
    response = client.get("/api/v1/tariff", secure=True, **extra)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="tariff"'
