"""Characters FlatPeak must never get into our pages, database or redirects."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from provider_auth.flatpeak.client import (
    FlatPeakClient,
    SessionContext,
    redirect_host_allowed,
)
from provider_auth.flatpeak.errors import FlatPeakRejected

TOKEN = "cot_68541c4c407600f62fd98a97"
API = "https://api.flatpeak.test"
SESSION_URL = f"{API}/connect/session/{TOKEN}"
HOSTILE = {
    "nul": "\x00",
    "soh": "\x01",
    "vertical-tab": "\x0b",
    "del": "\x7f",
    "line-separator": "\u2028",
    "lone-surrogate": "\ud800",
}
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]  # fmt: skip


@pytest.fixture(autouse=True)
def _flatpeak_settings(settings: Any) -> None:
    settings.FLATPEAK_API_URL = API
    # Tries, not the clock, keep failure tests quick: the deadline bounds the whole call,
    # so a tight one would also cut short a healthy answer on a loaded machine.
    settings.FLATPEAK_MAX_ATTEMPTS = 2
    settings.FLATPEAK_RETRY_DEADLINE = 3
    settings.FLATPEAK_REDIRECT_HOSTS = ["connect.flatpeak.com"]


def _context(**account: Any) -> dict[str, Any]:
    return {
        "account": {"id": "acc_1", "display_name": "Heatly Pumps", **account},
        "connect_web_uri": "https://connect.flatpeak.com/continue",
    }


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(
    "where", ["display_name", "terms_url", "logo_url", "id", "connect_web_uri"]
)
def test_a_context_carrying_a_control_character_is_refused(char: str, where: str) -> None:
    data = _context()
    if where == "connect_web_uri":
        data[where] = f"https://connect.flatpeak.com/{char}x"
    elif where.endswith("_url"):
        data["account"][where] = f"https://heatly.example/{char}x"
    else:
        data["account"][where] = f"Heatly{char}Pumps"
    with pytest.raises(FlatPeakRejected):
        SessionContext.from_api(data)


def test_a_link_with_a_character_that_folds_to_ascii_is_refused() -> None:
    with pytest.raises(FlatPeakRejected):
        SessionContext.from_api(_context(terms_url="https://heatly.example/\u212aelvin"))
    with pytest.raises(FlatPeakRejected):
        SessionContext.from_api(
            {**_context(), "connect_web_uri": "https://connect.flatpea\u212a.com/"}
        )


@pytest.mark.parametrize("char", BIDI)
def test_bidirectional_controls_are_stripped_from_names(char: str) -> None:
    context = SessionContext.from_api(_context(display_name=f"Heatly{char} Pumps{char}"))
    assert context.display_name == "Heatly Pumps"


@pytest.mark.parametrize(
    "url",
    [
        *(f"https://connect.flatpeak.com/done{c}" for c in HOSTILE.values()),
        "https://connect.flatpea\u212a.com/done",
        "https://connect.flatpeak.com/d\u2028one",
        "\x0bhttps://connect.flatpeak.com/done",
    ],
)
def test_a_redirect_with_hostile_characters_is_refused_like_a_foreign_host(url: str) -> None:
    assert not redirect_host_allowed(url)


@responses.activate
@pytest.mark.parametrize("char", ["\x0b", "\x00", "\u2028"])
def test_the_submission_answer_keeps_a_hostile_redirect_visible_to_the_host_check(
    char: str,
) -> None:
    # Trimming would turn "\x0bhttps://allowed/…" into an allowed target.
    responses.post(SESSION_URL, json={"redirect_uri": f"{char}https://connect.flatpeak.com/d"})
    result = FlatPeakClient().session_submit(
        connect_token=TOKEN, payload={"status": "DECLINED"}, idempotency_key="k" * 32
    )
    assert not redirect_host_allowed(result.redirect_uri)
