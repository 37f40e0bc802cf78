from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.models import Tariff


@pytest.fixture
def staff_client(client, make_customer):
    admin_user = make_customer(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


def rule_form(prefix: int, valid_from: str, valid_to: str, rate: str, days=range(7)) -> dict:
    data = {
        f"rules-{prefix}-valid_from": valid_from,
        f"rules-{prefix}-valid_to": valid_to,
        f"rules-{prefix}-unit_rate": rate,
        f"rules-{prefix}-tier_to_kwh": "",
        f"rules-{prefix}-months": [str(m) for m in range(1, 13)],
        f"rules-{prefix}-weekdays": [str(d) for d in days],
    }
    return data


def tariff_post(*rules: dict) -> dict:
    data = {
        "name": "Admin Tariff",
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge": "0.40",
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for rule in rules:
        data.update(rule)
    return data


@pytest.mark.django_db
def test_admin_refuses_a_tariff_whose_rules_leave_a_gap(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_tariff_add"),
        tariff_post(rule_form(0, "00:00", "07:00", "0.10"), rule_form(1, "08:00", "24:00", "0.30")),
    )
    assert response.status_code == HTTPStatus.OK
    assert "No rate from 07:00 to 08:00 in every month on every day." in response.content.decode()
    assert not Tariff.objects.exists()


@pytest.mark.django_db
def test_admin_saves_a_tariff_whose_rules_cover_every_instant(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_tariff_add"),
        tariff_post(
            rule_form(0, "00:00", "24:00", "0.26", days=range(5)),
            rule_form(1, "00:00", "24:00", "0.24", days=[5, 6]),
        ),
    )
    assert response.status_code == HTTPStatus.FOUND
    tariff = Tariff.objects.get()
    assert sorted(r.weekdays for r in tariff.rules.all()) == [[0, 1, 2, 3, 4], [5, 6]]


@pytest.mark.django_db
def test_admin_refuses_an_overlapping_contract(staff_client, make_contract):
    existing = make_contract()
    response = staff_client.post(
        reverse("admin:accounts_contract_add"),
        {
            "premise": existing.premise.pk,
            "tariff": existing.tariff.pk,
            "direction": "IMPORT",
            "start_at_0": existing.start_at.date().isoformat(),
            "start_at_1": "12:00:00",
            "end_at_0": "",
            "end_at_1": "",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "already has a Import contract in force" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:accounts_user_changelist", "customer"),
        ("admin:accounts_premise_changelist", "WC2N"),
        ("admin:accounts_premise_changelist", "PRM-9"),
        ("admin:accounts_contract_changelist", "example.com"),
        ("admin:accounts_tariff_changelist", "Fixed"),
    ],
)
def test_admin_lists_are_searchable(staff_client, make_contract, url_name, query):
    make_contract()
    response = staff_client.get(reverse(url_name), {"q": query})
    assert response.status_code == HTTPStatus.OK
    assert "0 results" not in response.content.decode()


@pytest.mark.django_db
def test_admin_add_pages_open(staff_client):
    for name in ("user", "premise", "contract", "tariff"):
        response = staff_client.get(reverse(f"admin:accounts_{name}_add"))
        assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_admin_can_repair_a_tariff_whose_saved_rules_are_broken(staff_client, make_tariff):
    tariff = make_tariff(rules=[("00:00", "12:00", "0.10")])
    rule = tariff.rules.get()
    data = tariff_post(rule_form(0, "00:00", "24:00", "0.10"))
    data.update(
        {"rules-INITIAL_FORMS": "1", "rules-0-id": str(rule.pk), "rules-0-tariff": str(tariff.pk)}
    )
    response = staff_client.post(reverse("admin:accounts_tariff_change", args=[tariff.pk]), data)
    assert response.status_code == HTTPStatus.FOUND
    rule.refresh_from_db()
    assert rule.valid_to == "24:00"


@pytest.mark.django_db
def test_admin_refuses_two_overlapping_contracts_submitted_together(
    staff_client, make_premise, make_tariff
):
    premise, tariff = make_premise(), make_tariff()
    data = {
        "customer": premise.customer.pk,
        "reference": premise.reference,
        "address_line1": premise.address_line1,
        "city": premise.city,
        "post_code": premise.post_code,
        "country_code": "GB",
        "contracts-TOTAL_FORMS": "2",
        "contracts-INITIAL_FORMS": "0",
        "contracts-MIN_NUM_FORMS": "0",
        "contracts-MAX_NUM_FORMS": "1000",
    }
    for i, day in enumerate(("2026-01-01", "2026-02-01")):
        data.update(
            {
                f"contracts-{i}-direction": "IMPORT",
                f"contracts-{i}-tariff": tariff.pk,
                f"contracts-{i}-start_at_0": day,
                f"contracts-{i}-start_at_1": "00:00:00",
            }
        )
    response = staff_client.post(reverse("admin:accounts_premise_change", args=[premise.pk]), data)
    assert response.status_code == HTTPStatus.OK
    assert "Two Import contracts overlap" in response.content.decode()
    assert not premise.contracts.exists()
