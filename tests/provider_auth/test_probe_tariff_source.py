"""`manage.py probe_tariff_source`: what the source answers, or a readable reason and exit 1."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Contract
from tests.accounts.sources.conftest import kraken_settings, replay  # noqa: F401
from tests.accounts.sources.kraken_replay import KrakenReplay


def probe(*args: str) -> str:
    out = io.StringIO()
    call_command("probe_tariff_source", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_probe_prints_the_kraken_answer_for_an_account(
    replay: KrakenReplay,  # noqa: F811
) -> None:
    out = probe("A-1111AAAA", "--at", "2026-10-25T12:00:00Z")
    assert "KRP-1000001 IMPORT meter point 1900000000001: 10 Demo Road, Flat 2, Testbury" in out
    assert "contract E-1R-AGILE-24-10-01-C" in out
    assert "published" in out and "prices incl. VAT" in out
    assert "prices on 2026-10-25: 50 intervals, from -0.024255" in out
    assert "format=provider would answer: {" in out and '"contract_end_date":null' in out
    assert '"name":"Agile Octopus"' in out and '"premise":{"postal_address"' in out


@pytest.mark.django_db
def test_probe_prints_what_flatpeak_would_receive_in_both_formats(
    replay: KrakenReplay,  # noqa: F811
) -> None:
    out = probe("A-1111AAAA", "--at", "2026-10-20T12:00:00Z")
    provider = [line for line in out.splitlines() if "format=provider" in line]
    flatpeak = [line for line in out.splitlines() if "format=flatpeak" in line]
    assert '"rules":[{"days":["MON","TUE","WED","THU","FRI","SAT","SUN"]' in provider[0]
    assert '"standing_charge":0.6012' in provider[0]
    assert '"reference":"KRP-1000001"' in provider[0]
    assert '"rate":[{"to_kwh":null,"value":0.249}]' in flatpeak[0]
    assert '"contract_end_date":"2026-10-24T23:00:00Z"' in flatpeak[0]


@pytest.mark.django_db
def test_probe_prints_a_flat_tariffs_rule(
    replay: KrakenReplay,  # noqa: F811
) -> None:
    out = probe("A-1111AAAA", "--at", "2026-10-20T12:00:00Z")
    assert "00:00–24:00 0.249/kWh" in out
    assert "standing charge 0.6012/day" in out


@pytest.mark.django_db
def test_probe_of_the_local_source_reads_our_database(
    make_contract: Callable[..., Contract],
) -> None:
    contract = make_contract()
    out = probe(contract.premise.customer.email)
    assert "accounts.sources.local.LocalTariffSource" in out
    assert f"{contract.premise.reference}: contract {contract.tariff_id}" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["A-0000NONE"], "No such account"),
        (
            ["A-1111AAAA", "--direction", "EXPORT", "--at", "2026-10-25T12:00:00Z"],
            "No EXPORT contract",
        ),
        (["A-1111AAAA", "--at", "2026-10-25 12:00"], "UTC offset"),
    ],
)
def test_probe_fails_with_a_readable_reason(
    replay: KrakenReplay,  # noqa: F811
    args: list[str],
    reason: str,
) -> None:
    with pytest.raises(CommandError, match=reason):
        probe(*args)


@pytest.mark.django_db
def test_probe_says_when_kraken_is_down(
    replay: KrakenReplay,  # noqa: F811
) -> None:
    replay.queue("AccountSupplyPoints", *[lambda: (503, {}, "")] * 10)
    with pytest.raises(CommandError, match="unavailable: HTTP 503"):
        probe("A-1111AAAA")


@pytest.mark.django_db
def test_probe_says_when_the_source_is_misconfigured(
    replay: KrakenReplay,  # noqa: F811
    settings: Any,
) -> None:
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = ""
    with pytest.raises(CommandError, match="misconfigured"):
        probe("A-1111AAAA", "--at", dt.datetime(2026, 10, 25, tzinfo=dt.UTC).isoformat())
