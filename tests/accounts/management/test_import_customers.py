from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command

from accounts.models import Contract, Premise, Tariff, User

VALID = {
    "tariffs": [
        {
            "name": "Night Saver",
            "currency": "GBP",
            "timezone": "Europe/London",
            "standing_charge": "0.50",
            "rules": [
                {"valid_from": "00:00", "valid_to": "07:00", "unit_rate": "0.1100"},
                {"valid_from": "07:00", "valid_to": "24:00", "unit_rate": "0.3000"},
            ],
        }
    ],
    "customers": [
        {
            "email": "Dana@Example.com",
            "full_name": "Dana Example",
            "premises": [
                {
                    "reference": "PRM-100001",
                    "address_line1": "1 High Street",
                    "city": "York",
                    "post_code": "YO1 7HH",
                    "country_code": "GB",
                    "contracts": [
                        {
                            "direction": "IMPORT",
                            "tariff": "Night Saver",
                            "start": "2026-01-01T00:00:00Z",
                            "end": None,
                        }
                    ],
                }
            ],
        },
        {
            "email": "erin@example.com",
            "password_hash": None,
            "premises": [
                {
                    "reference": "PRM-100002",
                    "address_line1": "2 Low Road",
                    "city": "Bath",
                    "post_code": "BA1 1AA",
                    "country_code": "GB",
                }
            ],
        },
    ],
}


def run_import(tmp_path: Path, data) -> tuple[str, str]:
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_customers", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_import(tmp_path: Path, data) -> list[str]:
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_customers", str(path), stdout=io.StringIO(), stderr=err)
    return [line.strip() for line in err.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_a_valid_file_creates_customers_premises_tariffs_and_contracts(tmp_path):
    out, _ = run_import(tmp_path, VALID)
    assert "customers 2 created" in out
    dana = User.objects.get(email="dana@example.com")
    assert dana.full_name == "Dana Example"
    assert not dana.has_usable_password()
    premise = Premise.objects.get(reference="PRM-100001")
    assert premise.customer == dana
    contract = Contract.objects.get(premise=premise)
    assert contract.tariff.name == "Night Saver" and contract.end_at is None
    assert Tariff.objects.get(name="Night Saver").rules.count() == 2


@pytest.mark.django_db
def test_importing_twice_upserts_instead_of_duplicating(tmp_path):
    run_import(tmp_path, VALID)
    changed = copy.deepcopy(VALID)
    changed["customers"][1]["premises"][0]["city"] = "Bristol"
    out, _ = run_import(tmp_path, changed)
    assert "customers 0 created, 2 updated" in out
    assert User.objects.count() == 2
    assert Premise.objects.count() == 2
    assert Tariff.objects.count() == 1
    assert Contract.objects.count() == 1
    assert Premise.objects.get(reference="PRM-100002").city == "Bristol"


@pytest.mark.django_db
def test_one_invalid_record_imports_nothing_and_names_index_and_field(tmp_path):
    data = copy.deepcopy(VALID)
    data["customers"][1]["premises"][0]["country_code"] = "UK"
    errors = failing_import(tmp_path, data)
    assert errors == [
        "customers[1].premises[0].country_code: UK is not an ISO 3166-1 alpha-2 country code "
        "(e.g. GB)."
    ]
    assert not User.objects.exists()
    assert not Tariff.objects.exists()
    assert not Premise.objects.exists()


@pytest.mark.django_db
def test_every_problem_is_listed_at_once(tmp_path):
    data = copy.deepcopy(VALID)
    data["tariffs"][0]["rules"][1]["valid_from"] = "08:00"
    data["customers"][0]["email"] = "not-an-email"
    data["customers"][1]["premises"][0]["reference"] = "prm 2"
    data["customers"][1]["premises"][0].pop("city")
    errors = failing_import(tmp_path, data)
    assert "tariffs[0].rules: No rate from 07:00 to 08:00 in every month on every day." in errors
    assert "customers[0].email: Enter a valid email address." in errors
    assert any(
        e.startswith("customers[1].premises[0].reference: A reference looks like") for e in errors
    )
    assert "customers[1].premises[0].city: This field cannot be blank." in errors


@pytest.mark.django_db
def test_password_hashes_are_accepted_only_in_a_known_format(tmp_path, rf):
    data = copy.deepcopy(VALID)
    data["customers"][0]["password_hash"] = make_password("dana-secret-pass")
    data["customers"][1]["password_hash"] = "plaintext-password"
    errors = failing_import(tmp_path, data)
    assert len(errors) == 1
    assert errors[0].startswith("customers[1].password_hash: not a Django password hash")

    data["customers"][1]["password_hash"] = None
    run_import(tmp_path, data)
    assert authenticate(rf.post("/"), username="dana@example.com", password="dana-secret-pass")
    dana = User.objects.get(email="dana@example.com")
    assert dana.check_password("dana-secret-pass")


@pytest.mark.django_db
def test_a_premise_of_another_customer_is_not_moved(tmp_path, make_premise, make_customer):
    make_premise(customer=make_customer(email="owner@example.com"), reference="PRM-100001")
    errors = failing_import(tmp_path, VALID)
    assert errors[0].startswith("customers[0].premises[0].reference: belongs to another customer")
    assert Premise.objects.get(reference="PRM-100001").customer.email == "owner@example.com"


@pytest.mark.django_db
def test_duplicates_and_overlapping_contracts_in_the_file_are_reported(tmp_path):
    data = copy.deepcopy(VALID)
    contracts = data["customers"][0]["premises"][0]["contracts"]
    contracts.append(
        {"direction": "IMPORT", "tariff": "Night Saver", "start": "2026-06-01T00:00:00Z"}
    )
    contracts.append({"direction": "SIDEWAYS", "tariff": "Unknown", "start": "yesterday"})
    data["customers"].append({"email": "dana@example.com"})
    errors = failing_import(tmp_path, data)
    assert any(e.startswith("customers[0].premises[0].contracts[1]: overlaps") for e in errors)
    assert "customers[0].premises[0].contracts[2].direction: must be IMPORT or EXPORT" in errors
    assert any(
        e.startswith("customers[0].premises[0].contracts[2].tariff: no single tariff")
        for e in errors
    )
    assert any(
        e.startswith("customers[0].premises[0].contracts[2].start: must be an RFC 3339")
        for e in errors
    )
    assert "customers[2].email: same as customers[0]" in errors


def test_a_file_that_is_not_json_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"customers": [', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON \(line 1"):
        call_command("import_customers", str(path))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_customers", str(tmp_path / "nope.json"))


@pytest.mark.django_db
def test_a_dry_run_counts_everything_and_writes_nothing(tmp_path):
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(VALID), encoding="utf-8")
    out = io.StringIO()
    call_command("import_customers", str(path), "--dry-run", stdout=out)
    assert "dry run, nothing written" in out.getvalue()
    assert "customers 2 created" in out.getvalue()
    assert "1 contracts" in out.getvalue()
    assert not User.objects.exists()
    assert not Tariff.objects.exists()


@pytest.mark.django_db
def test_the_billing_account_number_is_imported_and_kept_unique(tmp_path, make_customer):
    data = copy.deepcopy(VALID)
    data["customers"][0]["account_number"] = " A-1111AAAA "
    run_import(tmp_path, data)
    assert User.objects.get(email="dana@example.com").account_number == "A-1111AAAA"
    make_customer(email="other@example.com", account_number="A-2222BBBB")
    data["customers"][1]["account_number"] = "A-2222BBBB"
    data["customers"][0]["account_number"] = ""
    errors = failing_import(tmp_path, data)
    assert errors == [
        "customers[0].account_number: must be a non-empty string (64 characters at most)",
        "customers[1].account_number: already belongs to another customer",
    ]
    data["customers"][0]["account_number"] = None
    data["customers"][1]["account_number"] = None
    run_import(tmp_path, data)
    assert User.objects.get(email="dana@example.com").account_number is None
