"""Writes of the sandbox: sessions, fault injection, received submissions, polling results."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.timefmt import rfc3339
from sandbox import poller
from sandbox.models import Fault, SandboxRequest, SandboxSession
from sandbox.validation import FieldError, submission_validate

CONTEXT = "context"
SUBMISSION = "submission"


@dataclass
class ApiAnswer:
    """What a sandbox API view sends back: status, JSON body, and how long to stall first."""

    status: int
    body: dict[str, Any]
    sleep_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def error_object(*, code: str, message: str, type_: str = "invalid_request", **extra: Any) -> dict:
    """FlatPeak's error shape (docs/flatpeak-contract.md §6)."""
    return {
        "object": "error",
        "type": type_,
        "code": code,
        "message": message,
        "live_mode": False,
        "time_created": rfc3339(timezone.now()),
        **extra,
    }


def connect_token_generate() -> str:
    return "cot_" + secrets.token_hex(12)


@transaction.atomic
def sandbox_session_create(
    *,
    persona: str,
    direction: str,
    fault_context: str = "",
    fault_submission: str = "",
    fault_repeats: int = 1,
    app_origin: str = "",
) -> SandboxSession:
    """A new connect token, as FlatPeak creates one when the device maker's app asks."""
    now = timezone.now()
    repeats = max(1, min(fault_repeats, 10))
    return SandboxSession.objects.create(
        connect_token=connect_token_generate(),
        persona=persona,
        direction=direction,
        app_origin=app_origin[:200],
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.SANDBOX_TOKEN_MINUTES),
        fault_context=fault_context,
        fault_submission=fault_submission,
        fault_context_left=repeats if fault_context else 0,
        fault_submission_left=repeats if fault_submission else 0,
    )


def _fault_take(*, session: SandboxSession, kind: str) -> str:
    """Consume one injected fault of this kind, atomically (concurrent retries count once each)."""
    fault_field, left_field = f"fault_{kind}", f"fault_{kind}_left"
    fault = getattr(session, fault_field)
    if not fault:
        return Fault.NONE
    taken = SandboxSession.objects.filter(pk=session.pk, **{f"{left_field}__gt": 0}).update(
        **{left_field: F(left_field) - 1}
    )
    return fault if taken else Fault.NONE


def _sleep_for(fault: str) -> float:
    # Bounded: a timeout outlasts the client's read timeout by a second, never more than 30 s.
    if fault == Fault.TIMEOUT:
        return min(settings.FLATPEAK_READ_TIMEOUT + 1.0, 30.0)
    if fault == Fault.SLOW:
        return min(settings.FLATPEAK_READ_TIMEOUT * 0.5, 5.0)
    return 0.0


def _log(
    *,
    session: SandboxSession | None,
    token: str,
    method: str,
    kind: str,
    answer: ApiAnswer,
    outcome: str,
    idempotency_key: str = "",
    body_sha256: str = "",
) -> ApiAnswer:
    SandboxRequest.objects.create(
        session=session,
        connect_token=token[:100],
        method=method,
        kind=kind,
        idempotency_key=idempotency_key[:255],
        body_sha256=body_sha256,
        response_status=answer.status,
        outcome=outcome,
        error_code=str(answer.body.get("code", "")) if answer.body.get("object") == "error" else "",
    )
    return answer


def _lookup(*, token: str, for_update: bool = False) -> SandboxSession | None:
    queryset = SandboxSession.objects.all()
    if for_update:
        queryset = queryset.select_for_update()
    return queryset.filter(connect_token=token).first()


def _not_found_or_expired(
    *, session: SandboxSession | None, token: str, method: str, kind: str, key: str = ""
) -> ApiAnswer | None:
    if session is None:
        answer = ApiAnswer(
            404, error_object(code="connect_token_not_found", message="Unknown connect token.")
        )
        return _log(
            session=None,
            token=token,
            method=method,
            kind=kind,
            answer=answer,
            outcome="not_found",
            idempotency_key=key,
        )
    if session.expires_at <= timezone.now():
        answer = ApiAnswer(
            410, error_object(code="connect_token_expired", message="The connect token expired.")
        )
        return _log(
            session=session,
            token=token,
            method=method,
            kind=kind,
            answer=answer,
            outcome="expired",
            idempotency_key=key,
        )
    return None


def _fault_answer(fault: str) -> ApiAnswer | None:
    if fault == Fault.ERROR_500:
        return ApiAnswer(
            500,
            error_object(
                code="internal_error", message="Injected fault: internal error.", type_="api_error"
            ),
        )
    if fault == Fault.GONE_410:
        return ApiAnswer(
            410, error_object(code="connect_token_expired", message="Injected fault: expired.")
        )
    return None


@transaction.atomic
def sandbox_context_serve(
    *, token: str, account: dict[str, Any], auth_uri: str, connect_web_uri: str
) -> ApiAnswer:
    """The session-context GET (docs/flatpeak-contract.md §2), with any injected fault applied."""
    session = _lookup(token=token)
    missing = _not_found_or_expired(session=session, token=token, method="GET", kind=CONTEXT)
    if missing or session is None:
        return missing  # type: ignore[return-value]
    fault = _fault_take(session=session, kind=CONTEXT)
    faulted = _fault_answer(fault)
    if faulted:
        return _log(
            session=session,
            token=token,
            method="GET",
            kind=CONTEXT,
            answer=faulted,
            outcome=f"fault_{fault}",
        )
    SandboxSession.objects.filter(pk=session.pk).update(context_fetches=F("context_fetches") + 1)
    body = {
        "object": "connect_session",
        "id": session.connect_token,
        "live_mode": False,
        "direction": session.direction,
        "time_created": rfc3339(session.created_at),
        "time_expiry": rfc3339(session.expires_at),
        "account": account,
        "redirect_uri": f"{auth_uri}?connect_token={session.connect_token}",
        "connect_web_uri": connect_web_uri,
    }
    answer = ApiAnswer(200, body, sleep_seconds=_sleep_for(fault))
    return _log(
        session=session,
        token=token,
        method="GET",
        kind=CONTEXT,
        answer=answer,
        outcome=f"ok_{fault}" if fault else "ok",
    )


def _canonical_sha256(payload: Any) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _submission_response(*, session: SandboxSession, redirect_uri: str) -> dict[str, Any]:
    return {
        "object": "connect_session",
        "id": session.connect_token,
        "status": session.status,
        "live_mode": False,
        "redirect_uri": redirect_uri,
    }


@transaction.atomic
def sandbox_submission_receive(
    *, token: str, payload: Any, idempotency_key: str, redirect_uri: str
) -> ApiAnswer:
    """The submission POST (docs/flatpeak-contract.md §4): validated, idempotent by Idempotency-Key.

    Same key and same body after acceptance → the same answer, and the payload counts once.
    A second, different decision (another key or another body) → 409: connect tokens are
    single-use, so this exposes a double submission by the provider.
    Injected 500 / timeout / slow faults strike *after* the payload is recorded, which is the
    case that makes idempotency matter: FlatPeak has it, the provider does not know.
    """
    key = idempotency_key
    session = _lookup(token=token, for_update=True)
    missing = _not_found_or_expired(
        session=session, token=token, method="POST", kind=SUBMISSION, key=key
    )
    if missing or session is None:
        return missing  # type: ignore[return-value]
    digest = _canonical_sha256(payload) if payload is not None else ""

    def log(answer: ApiAnswer, outcome: str) -> ApiAnswer:
        return _log(
            session=session,
            token=token,
            method="POST",
            kind=SUBMISSION,
            answer=answer,
            outcome=outcome,
            idempotency_key=key,
            body_sha256=digest,
        )

    fault = _fault_take(session=session, kind=SUBMISSION)
    if fault == Fault.GONE_410:
        return log(_fault_answer(fault), "fault_gone_410")  # type: ignore[arg-type]
    if not key:
        return log(
            ApiAnswer(
                400,
                error_object(
                    code="idempotency_key_missing", message="Send an Idempotency-Key header."
                ),
            ),
            "rejected",
        )
    if payload is None:
        return log(
            ApiAnswer(400, error_object(code="invalid_json", message="The body is not JSON.")),
            "rejected",
        )
    errors: list[FieldError] = submission_validate(payload=payload)
    if errors:
        message = "; ".join(f"{e.field or 'body'}: {e.message}" for e in errors)
        return log(
            ApiAnswer(
                422,
                error_object(
                    code="validation_failed", message=message, errors=[e.as_dict() for e in errors]
                ),
            ),
            "invalid",
        )
    if session.submitted_at is not None:
        if key == session.idempotency_key and digest == _canonical_sha256(session.payload):
            answer = ApiAnswer(
                200, _submission_response(session=session, redirect_uri=redirect_uri)
            )
            return log(answer, "replayed")
        code = "idempotency_key_reused" if key == session.idempotency_key else "already_submitted"
        message = (
            "This Idempotency-Key was used with a different body."
            if code == "idempotency_key_reused"
            else "A decision was already submitted for this connect token."
        )
        return log(ApiAnswer(409, error_object(code=code, message=message)), "conflict")
    session.status = payload["status"]
    session.reason = str(payload.get("reason", ""))[:64]
    session.payload = payload
    session.idempotency_key = key[:255]
    session.submitted_at = timezone.now()
    update_fields = ["status", "reason", "payload", "idempotency_key", "submitted_at"]
    auth_data = payload.get("auth_data")
    if isinstance(auth_data, dict):
        session.access_token = auth_data["access_token"]
        session.refresh_token = auth_data["refresh_token"]
        session.access_expires_at = session.submitted_at + dt.timedelta(
            seconds=auth_data["expires_in"]
        )
        update_fields += ["access_token", "refresh_token", "access_expires_at"]
    session.save(update_fields=update_fields)
    faulted = _fault_answer(fault)
    if faulted:
        return log(faulted, f"accepted_fault_{fault}")
    answer = ApiAnswer(
        200,
        _submission_response(session=session, redirect_uri=redirect_uri),
        sleep_seconds=_sleep_for(fault),
    )
    return log(answer, f"accepted_{fault}" if fault else "accepted")


# --- The poller -----------------------------------------------------------------------------
def _rates_list(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict):
        items = next(
            (body[k] for k in ("rates", "data", "intervals") if isinstance(body.get(k), list)), []
        )
    else:
        items = []
    rates = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            value = str(Decimal(str(item.get("unit_rate", item.get("rate")))))
        except (InvalidOperation, ValueError):
            continue
        rates.append(
            {
                "valid_from": str(item.get("valid_from", "")),
                "valid_to": str(item.get("valid_to", "")),
                "unit_rate": value,
            }
        )
    return rates


def _rates_info(body: Any) -> dict[str, str]:
    """How a rates answer says the prices are known: pricing kind, how far published prices
    reach, when new ones are expected — or the code of an error object (e.g.
    prices_not_published). Text only, as the server sent it."""
    if not isinstance(body, dict):
        return {}
    keys = ("pricing", "published_until", "next_update", "last_updated", "code")
    return {key: str(body[key]) for key in keys if isinstance(body.get(key), str)}


def _params(session: SandboxSession, **extra: str) -> dict[str, str]:
    # FlatPeak knows the direction it connected: it asks for that one explicitly.
    return {"direction": session.direction, **extra}


def _step(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail}


def _auth_data(session: SandboxSession) -> dict[str, Any]:
    payload = session.payload or {}
    data = payload.get("auth_data")
    return data if isinstance(data, dict) else {}


def _store_tokens(*, session: SandboxSession, body: dict[str, Any]) -> None:
    session.access_token = str(body.get("access_token", ""))
    session.refresh_token = str(body.get("refresh_token", session.refresh_token))
    expires_in = body.get("expires_in")
    session.access_expires_at = (
        timezone.now() + dt.timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int)
        else None
    )


def _client_id(session: SandboxSession) -> str:
    return str(_auth_data(session).get("client_id") or settings.FLATPEAK_OAUTH_CLIENT_ID)


def sandbox_poll(*, session: SandboxSession) -> SandboxSession:
    """Fetch the tariff (both formats) and the next 24 hours of rates, then refresh once.

    Not atomic on purpose: it makes HTTP calls to our own server, which must see committed
    data, and each step's result is stored even when a later one fails.
    """
    auth = _auth_data(session)
    result: dict[str, Any] = {"at": timezone.now().isoformat(), "steps": []}
    steps: list[dict[str, Any]] = result["steps"]
    tariff_endpoint = str(auth.get("tariff_endpoint", ""))
    try:
        answer = poller.http_get(
            url=tariff_endpoint, access_token=session.access_token, params=_params(session)
        )
        steps.append(_step("tariff", answer.ok, f"HTTP {answer.status}"))
        result["tariff"] = answer.body if answer.ok else None
        answer = poller.http_get(
            url=tariff_endpoint,
            access_token=session.access_token,
            params=_params(session, format="flatpeak"),
        )
        steps.append(_step("tariff_flatpeak", answer.ok, f"HTTP {answer.status}"))
        result["tariff_flatpeak"] = answer.body if answer.ok else None
        answer = poller.http_get(
            url=poller.rates_url(tariff_endpoint),
            access_token=session.access_token,
            params=_params(session, **poller.rates_window(now=timezone.now())),
        )
        steps.append(_step("rates", answer.ok, f"HTTP {answer.status}"))
        result["rates"] = _rates_list(answer.body) if answer.ok else []
        result["rates_info"] = _rates_info(answer.body)
        old_expiry = session.access_expires_at
        answer = poller.token_refresh(
            token_endpoint=str(auth.get("token_endpoint", "")),
            refresh_token=session.refresh_token,
            client_id=_client_id(session),
        )
        refreshed = answer.ok and isinstance(answer.body, dict) and "access_token" in answer.body
        steps.append(_step("refresh", refreshed, f"HTTP {answer.status}"))
        if refreshed:
            _store_tokens(session=session, body=answer.body)
            result["old_expiry"] = old_expiry.isoformat() if old_expiry else None
            result["new_expiry"] = (
                session.access_expires_at.isoformat() if session.access_expires_at else None
            )
    except poller.PollerRefused as e:
        steps.append(_step("origin", False, f"refused to call a foreign origin: {e}"))
    except requests.RequestException as e:
        steps.append(_step("http", False, f"{type(e).__name__}"))
    result["ok"] = bool(steps) and all(s["ok"] for s in steps)
    session.poll_result = result
    session.save(
        update_fields=["poll_result", "access_token", "refresh_token", "access_expires_at"]
    )
    return session


def _token_checks_retry(
    steps: list[dict[str, Any]],
    *,
    session: SandboxSession,
    old_refresh: str,
    client_id: str,
    auth: dict[str, Any],
) -> None:
    """The replay steps on a deployment with a refresh grace window: presenting the
    just-rotated token again is a retry (a FlatPeak worker that lost the response), which must
    answer a new pair and leave the rotated tokens working. Reuse after the window cannot be
    shown without waiting it out; the server's own tests prove it."""
    rotated_refresh = session.refresh_token
    answer = poller.token_refresh(
        token_endpoint=str(auth.get("token_endpoint", "")),
        refresh_token=old_refresh,
        client_id=client_id,
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    retried = (
        answer.ok
        and bool(body.get("access_token"))
        and body.get("refresh_token") not in (None, "", old_refresh, rotated_refresh)
    )
    steps.append(_step("retry_within_grace_gets_a_new_pair", retried, f"HTTP {answer.status}"))
    answer = poller.http_get(
        url=str(auth.get("tariff_endpoint", "")),
        access_token=session.access_token,
        params=_params(session),
    )
    steps.append(_step("retry_keeps_the_rotated_tokens", answer.ok, f"HTTP {answer.status}"))
    if retried:
        _store_tokens(session=session, body=body)


def sandbox_token_checks_run(*, session: SandboxSession) -> SandboxSession:
    """What FlatPeak's onboarding team verifies about the tokens (flatpeak-check, checks 3.x).

    Fetch in both formats, refresh (must rotate), use the new token, then replay the old refresh
    token: within the deployment's grace window (OAUTH_REFRESH_GRACE_SECONDS) it is a retry that
    must answer a new pair and keep the rotated tokens working; without one it must be refused
    and revoke the grant (ending with dead tokens).
    """
    auth = _auth_data(session)
    tariff_endpoint = str(auth.get("tariff_endpoint", ""))
    token_endpoint = str(auth.get("token_endpoint", ""))
    client_id = _client_id(session)
    steps: list[dict[str, Any]] = []
    try:
        answer = poller.http_get(
            url=tariff_endpoint, access_token=session.access_token, params=_params(session)
        )
        steps.append(
            _step(
                "tariff_provider_format",
                answer.ok and isinstance(answer.body, dict),
                f"HTTP {answer.status}",
            )
        )
        answer = poller.http_get(
            url=tariff_endpoint,
            access_token=session.access_token,
            params=_params(session, format="flatpeak"),
        )
        has_schedule = isinstance(answer.body, dict) and (
            "schedule" in answer.body or "data" in answer.body
        )
        steps.append(
            _step(
                "tariff_flatpeak_format",
                answer.ok and has_schedule,
                f"HTTP {answer.status}" + ("" if has_schedule else ", no schedule"),
            )
        )
        old_refresh, old_access = session.refresh_token, session.access_token
        answer = poller.token_refresh(
            token_endpoint=token_endpoint, refresh_token=old_refresh, client_id=client_id
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        rotated = (
            answer.ok
            and bool(body.get("refresh_token"))
            and body.get("refresh_token") != old_refresh
            and bool(body.get("access_token"))
            and body.get("access_token") != old_access
        )
        steps.append(_step("refresh_rotates", rotated, f"HTTP {answer.status}"))
        if rotated:
            _store_tokens(session=session, body=body)
        answer = poller.http_get(
            url=tariff_endpoint, access_token=session.access_token, params=_params(session)
        )
        steps.append(_step("new_access_token_works", answer.ok, f"HTTP {answer.status}"))
        if settings.OAUTH_REFRESH_GRACE_SECONDS > 0:
            _token_checks_retry(
                steps, session=session, old_refresh=old_refresh, client_id=client_id, auth=auth
            )
        else:
            answer = poller.token_refresh(
                token_endpoint=token_endpoint, refresh_token=old_refresh, client_id=client_id
            )
            error = answer.body.get("error") if isinstance(answer.body, dict) else None
            steps.append(
                _step(
                    "old_refresh_token_refused",
                    answer.status == 400 and error == "invalid_grant",
                    f"HTTP {answer.status} {error or ''}".strip(),
                )
            )
            answer = poller.http_get(
                url=tariff_endpoint, access_token=session.access_token, params=_params(session)
            )
            steps.append(
                _step("reuse_revoked_grant_access", answer.status == 401, f"HTTP {answer.status}")
            )
            answer = poller.token_refresh(
                token_endpoint=token_endpoint,
                refresh_token=session.refresh_token,
                client_id=client_id,
            )
            steps.append(
                _step("reuse_revoked_grant_refresh", answer.status == 400, f"HTTP {answer.status}")
            )
    except poller.PollerRefused as e:
        steps.append(_step("origin", False, f"refused to call a foreign origin: {e}"))
    except requests.RequestException as e:
        steps.append(_step("http", False, type(e).__name__))
    session.token_checks = {
        "at": timezone.now().isoformat(),
        "ok": bool(steps) and all(s["ok"] for s in steps),
        "steps": steps,
    }
    session.save(
        update_fields=["token_checks", "access_token", "refresh_token", "access_expires_at"]
    )
    return session


# --- Set-up ---------------------------------------------------------------------------------
@transaction.atomic
def sandbox_oauth_client_ensure(*, client_id: str, secret: str, name: str = "FlatPeak") -> bool:
    """FlatPeak's OAuth client, accepting `secret`, created or brought in line; True if changed.

    Idempotent, so `make demo` can run it every time; only a digest of the secret is stored.
    Existing grant types and scopes are kept; refresh_token and every data type FlatPeak reads
    (the tariff, the contract dates, the address) are added if absent.
    """
    from provider_auth.oauth import tokens
    from provider_auth.oauth.models import OAuthClient
    from provider_auth.oauth.scopes import SCOPES_SUPPORTED as DATA_TYPES

    client = OAuthClient.objects.select_for_update().filter(client_id=client_id).first()
    if client is None:
        OAuthClient.objects.create(
            client_id=client_id,
            client_secret_hash=tokens.secret_hash(secret),
            name=name,
            redirect_uris=[],
            grant_types=[OAuthClient.GRANT_REFRESH_TOKEN],
            scopes=list(DATA_TYPES),
        )
        return True
    changed = []
    if not tokens.secret_matches(secret, client.client_secret_hash):
        client.client_secret_hash = tokens.secret_hash(secret)
        changed.append("client_secret_hash")
    if OAuthClient.GRANT_REFRESH_TOKEN not in client.grant_types:
        client.grant_types = [*client.grant_types, OAuthClient.GRANT_REFRESH_TOKEN]
        changed.append("grant_types")
    missing = [scope for scope in DATA_TYPES if scope not in client.scopes]
    if missing:
        client.scopes = [*client.scopes, *missing]
        changed.append("scopes")
    if not client.is_active:
        client.is_active = True
        changed.append("is_active")
    if changed:
        client.save(update_fields=changed)
    return bool(changed)
