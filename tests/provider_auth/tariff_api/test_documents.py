"""The tariff document's ETag follows every change of what the body shows, through every write
path (services, admin, importer-style queryset updates); unchanged documents cost one query."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

import provider_auth
from accounts.models import Contract, Direction, Premise, Tariff
from accounts.services import contract_create, contract_update, tariff_save_with_rules
from provider_auth.tariff_api.documents import documents

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"


def poll(api_get: Any, token: str, etag: str, **extra: Any) -> Any:
    return api_get(TARIFF, token, HTTP_IF_NONE_MATCH=etag, **extra)


def assert_changed(api_get: Any, token: str, etag: str) -> Any:
    """The document held under `etag` is stale: a 200 with a new ETag and a body."""
    response = poll(api_get, token, etag)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["ETag"] != etag
    return response


def test_an_unchanged_document_is_304_after_one_query_and_a_repeat_200_after_one(
    api_get: Any, access_token: str, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):
        first = api_get(TARIFF, access_token)
    with django_assert_max_num_queries(1):
        assert poll(api_get, access_token, first["ETag"]).status_code == HTTPStatus.NOT_MODIFIED
    with django_assert_max_num_queries(1):
        again = api_get(TARIFF, access_token)
    assert (again.status_code, again["ETag"], again.content) == (
        HTTPStatus.OK,
        first["ETag"],
        first.content,
    )


def test_another_worker_computes_the_same_etag_and_body(api_get: Any, access_token: str) -> None:
    first = api_get(TARIFF, access_token)
    documents.clear()  # a worker that never wrote this document
    fresh = api_get(TARIFF, access_token)
    assert (fresh["ETag"], fresh.content) == (first["ETag"], first.content)
    documents.clear()
    assert poll(api_get, access_token, first["ETag"]).status_code == HTTPStatus.NOT_MODIFIED


def test_editing_the_rules_through_the_service_changes_etag_and_body(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    tariff = contract.tariff
    tariff_save_with_rules(
        tariff=tariff,
        name=tariff.name,
        currency=tariff.currency,
        timezone_name=tariff.timezone,
        standing_charge=tariff.standing_charge,
        rules=[
            {"valid_from": "00:00", "valid_to": "07:00", "unit_rate": Decimal("0.0900")},
            {"valid_from": "07:00", "valid_to": "24:00", "unit_rate": Decimal("0.2450")},
        ],
    )
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert [r["unit_rate"] for r in changed.json()["rules"]] == [0.09, 0.245]


def test_editing_a_rule_in_the_admin_changes_etag_and_body(
    api_get: Any, access_token: str, contract: Contract, client: Any, make_customer: Any
) -> None:
    first = api_get(TARIFF, access_token)
    tariff = contract.tariff
    rule = tariff.rules.get()
    staff = make_customer(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    # Only the inline rule changes; the tariff's own fields are posted as they are.
    response = client.post(
        reverse("admin:accounts_tariff_change", args=[tariff.pk]),
        {
            "name": tariff.name,
            "currency": tariff.currency,
            "timezone": tariff.timezone,
            "standing_charge": str(tariff.standing_charge),
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "1",
            "rules-MIN_NUM_FORMS": "1",
            "rules-MAX_NUM_FORMS": "1000",
            "rules-0-id": str(rule.pk),
            "rules-0-tariff": str(tariff.pk),
            "rules-0-valid_from": "00:00",
            "rules-0-valid_to": "24:00",
            "rules-0-unit_rate": "0.1999",
            "rules-0-tier_to_kwh": "",
            "rules-0-months": [str(m) for m in range(1, 13)],
            "rules-0-weekdays": [str(d) for d in range(7)],
        },
        secure=True,
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    client.logout()
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert changed.json()["rules"][0]["unit_rate"] == 0.1999


def test_a_premise_address_change_changes_the_etag(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    premise = contract.premise
    premise.address_line1 = "2 New Road"
    premise.save()
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert changed.json()["premise"]["postal_address"]["address_line1"] == "2 New Road"


def test_an_address_written_without_updated_at_still_changes_the_etag(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    Premise.objects.filter(pk=contract.premise_id).update(post_code="SW1A 1AA")
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert changed.json()["premise"]["postal_address"]["post_code"] == "SW1A 1AA"


def test_a_contract_renewal_changes_etag_and_body(
    api_get: Any, access_token: str, contract: Contract, make_tariff: Any
) -> None:
    first = api_get(TARIFF, access_token)
    now = timezone.now()
    contract_update(contract=contract, end_at=now)
    contract_create(
        premise=contract.premise,
        tariff=make_tariff(name="Renewed Saver", rules=[("00:00", "24:00", "0.1990")]),
        start_at=now,
    )
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert changed.json()["name"] == "Renewed Saver"


def test_a_renewal_on_the_same_tariff_changes_the_etag(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    now = timezone.now()
    Contract.objects.filter(pk=contract.pk).update(end_at=now)  # no auto_now on update()
    Contract.objects.create(
        premise=contract.premise, tariff=contract.tariff, start_at=now, end_at=None
    )
    changed = assert_changed(api_get, access_token, first["ETag"])
    assert changed.json()["contract_end_date"] is None


def test_a_contract_end_date_written_without_updated_at_changes_the_etag(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    later = contract.end_at + dt.timedelta(days=30)
    Contract.objects.filter(pk=contract.pk).update(end_at=later)
    assert_changed(api_get, access_token, first["ETag"])


def test_a_tariff_field_written_without_updated_at_changes_the_etag(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    Tariff.objects.filter(pk=contract.tariff_id).update(name="Renamed")
    assert assert_changed(api_get, access_token, first["ETag"]).json()["name"] == "Renamed"


def test_each_direction_and_format_has_its_own_etag(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any
) -> None:
    make_contract(premise=contract.premise, tariff=contract.tariff, direction=Direction.EXPORT)
    _grant, issued = issue(directions=["IMPORT", "EXPORT"])
    token = issued.access_token
    etags = {
        api_get(TARIFF, token, data={"direction": d, "format": f})["ETag"]
        for d in ("IMPORT", "EXPORT")
        for f in ("provider", "flatpeak")
    }
    assert len(etags) == 4
    export = api_get(TARIFF, token, data={"direction": "EXPORT"})
    assert export.json()["direction"] == "EXPORT"
    assert (
        poll(api_get, token, export["ETag"], data={"direction": "EXPORT"}).status_code
        == HTTPStatus.NOT_MODIFIED
    )
    # The EXPORT document's ETag is no answer for the IMPORT one.
    assert poll(api_get, token, export["ETag"]).status_code == HTTPStatus.OK


def test_a_304_still_checks_the_token_first(
    api_get: Any, access_token: str, issue: Any, contract: Contract
) -> None:
    from provider_auth.oauth.services import grant_revoke

    grant, issued = issue()
    etag = api_get(TARIFF, issued.access_token)["ETag"]
    grant_revoke(grant=grant, reason="customer_revoked")
    response = poll(api_get, issued.access_token, etag)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["code"] == "grant_revoked"  # invalid_token in the Bearer challenge
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_the_document_cache_is_bounded() -> None:
    from provider_auth.tariff_api.documents import DocumentCache

    cache = DocumentCache(maxsize=2)
    cache.put('"a"', b"a")
    cache.put('"b"', b"b")
    assert cache.get('"a"') == b"a"  # now most recently used
    cache.put('"c"', b"c")
    assert (cache.get('"a"'), cache.get('"b"'), cache.get('"c"'), len(cache)) == (
        b"a",
        None,
        b"c",
        2,
    )


# --- the ETag is a function of data and a declared schema version, nothing else -------------
ETAG_OF_A_FIXED_DOCUMENT = """
import datetime as dt

import django

django.setup()

from accounts.models import Premise
from provider_auth.tariff_api.local_source import contract_term_from_poll_row
from provider_auth.tariff_api.sourced import document_etag
from provider_auth.tariff_api.sql import ContractRow

at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
premise = Premise(
    pk=7, reference="SP-7", address_line1="1 Strand", city="London", post_code="WC2N 5EH",
    country_code="GB", updated_at=at,
)
row = ContractRow(
    pk=3, direction="IMPORT", start_at=at, end_at=None, updated_at=at, tariff_id=5,
    tariff_updated_at=at, tariff_fields=("Saver", "GBP", "Europe/London", "0.4500"),
    pricing="schedule", publication_tag=None,
)
contract = contract_term_from_poll_row(premise=premise, row=row)
print(
    document_etag(
        premise=premise, contract=contract, tariff_version=contract.tariff_version,
        output="provider", scope="tariff:read contract:read address:read",
    )
)
"""


def etag_in_a_fresh_process(*, root: Path, hash_seed: str) -> str:
    env = {
        **os.environ,
        "DEBUG": "true",
        "PYTHONHASHSEED": hash_seed,
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "provider_auth.settings",
    }
    env.pop("PYTHONPATH", None)
    # cwd first on sys.path: the code under `root` is imported, not the installed copy.
    done = subprocess.run(
        [sys.executable, "-c", ETAG_OF_A_FIXED_DOCUMENT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_etag_is_the_same_in_every_process_and_every_install_path(tmp_path: Path) -> None:
    # Another host: the same release installed under another path, with another hash seed, and a
    # comment edited in the modules that write the document. None of that changes a document.
    root = Path(provider_auth.__file__).resolve().parent.parent
    here = etag_in_a_fresh_process(root=root, hash_seed="1")
    for package in ("accounts", "provider_auth"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for module in (
        "accounts/tariffs.py",
        "accounts/models.py",
        "provider_auth/tariff_api/documents.py",
        "provider_auth/tariff_api/formats.py",
    ):
        with (tmp_path / module).open("a") as source:
            source.write("\n# A comment edited on one host only.\n")
    elsewhere = etag_in_a_fresh_process(root=tmp_path, hash_seed="2")
    assert elsewhere == here
    assert re.fullmatch(r'"[0-9a-f]{32}"', here)


def test_the_etag_names_a_declared_document_schema_version() -> None:
    from provider_auth.tariff_api import documents as module

    assert isinstance(module.DOCUMENT_SCHEMA_VERSION, int)
    assert not hasattr(module, "_source_digest")


def key_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {prefix + "." + key for key in value} | {
            path for key, item in value.items() for path in key_paths(item, prefix + "." + key)
        }
    if isinstance(value, list):
        return {path for item in value for path in key_paths(item, prefix + "[]")}
    return set()


# The shape of each format at the current DOCUMENT_SCHEMA_VERSION. When this test fails, the
# wire format changed: bump DOCUMENT_SCHEMA_VERSION (clients must not keep old bodies on a 304)
# and pin the new shape here.
DOCUMENT_SHAPES = {
    1: {
        "provider": (
            ".contract_end_date",
            ".contract_start_date",
            ".currency",
            ".direction",
            ".name",
            ".object",
            ".premise",
            ".premise.postal_address",
            ".premise.postal_address.address_line1",
            ".premise.postal_address.address_line2",
            ".premise.postal_address.city",
            ".premise.postal_address.country_code",
            ".premise.postal_address.post_code",
            ".premise.postal_address.state",
            ".premise.reference",
            ".rules",
            ".rules[].days",
            ".rules[].months",
            ".rules[].tier_to_kwh",
            ".rules[].unit_rate",
            ".rules[].valid_from",
            ".rules[].valid_to",
            ".standing_charge",
            ".timezone",
            ".updated_at",
        ),
        "flatpeak": (
            ".contract_end_date",
            ".contract_start_date",
            ".currency",
            ".direction",
            ".display_name",
            ".object",
            ".schedule",
            ".schedule[].days_and_hours",
            ".schedule[].days_and_hours[].days",
            ".schedule[].days_and_hours[].hours",
            ".schedule[].days_and_hours[].hours[].rate",
            ".schedule[].days_and_hours[].hours[].rate[].to_kwh",
            ".schedule[].days_and_hours[].hours[].rate[].value",
            ".schedule[].days_and_hours[].hours[].valid_from",
            ".schedule[].days_and_hours[].hours[].valid_to",
            ".schedule[].months",
            ".timezone",
            ".type",
        ),
    },
}
# Version 2: how the tariff is priced (both formats), and FlatPeak's `market_rates`.
DOCUMENT_SHAPES[2] = {
    "provider": tuple(
        sorted(
            DOCUMENT_SHAPES[1]["provider"]
            + (".bidding_zone", ".prices_include_vat", ".pricing", ".published_rates")
        )
    ),
    "flatpeak": tuple(
        sorted(
            DOCUMENT_SHAPES[1]["flatpeak"]
            + (
                ".bidding_zone",
                ".market_rates",
                ".prices_include_vat",
                ".pricing",
                ".published_rates",
            )
        )
    ),
}


def test_a_change_of_the_document_shape_comes_with_a_new_schema_version(
    api_get: Any, access_token: str
) -> None:
    from provider_auth.tariff_api.documents import DOCUMENT_SCHEMA_VERSION

    for output in ("provider", "flatpeak"):
        body = api_get(TARIFF, access_token, data={"format": output}).json()
        shape = tuple(sorted(key_paths(body)))
        assert shape == DOCUMENT_SHAPES[DOCUMENT_SCHEMA_VERSION][output], output
