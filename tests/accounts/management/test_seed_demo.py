from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import (
    Contract,
    Direction,
    Premise,
    PricePublication,
    Tariff,
    TariffRule,
    User,
)
from accounts.selectors import contract_get_active


def _snapshot() -> dict:
    return {
        "users": sorted(User.objects.values_list("email", flat=True)),
        "premises": list(
            Premise.objects.order_by("reference").values_list("reference", "customer__email")
        ),
        "tariffs": sorted(Tariff.objects.values_list("pk", "name", "updated_at")),
        "rules": TariffRule.objects.count(),
        "publications": sorted(
            PricePublication.objects.values_list("zone", "day", "version", "tariff_id")
        ),
        "contracts": sorted(
            Contract.objects.values_list("pk", "premise__reference", "direction", "tariff__name")
        ),
    }


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_state():
    call_command("seed_demo", stdout=None)
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first
    assert first["users"] == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dana@example.com",
        "erik@example.com",
    ]
    assert first["premises"] == [
        ("PRM-000001", "alice@example.com"),
        ("PRM-000002", "bob@example.com"),
        ("PRM-000003", "bob@example.com"),
        ("PRM-000004", "carol@example.com"),
        ("PRM-000005", "dana@example.com"),
        ("PRM-000006", "erik@example.com"),
    ]
    assert len(first["contracts"]) == 7


@pytest.mark.django_db
def test_seed_demo_customers_log_in_with_their_demo_passwords(rf):
    call_command("seed_demo")
    for name in ("alice", "bob", "carol", "dana", "erik"):
        user = authenticate(
            rf.post("/"), username=f"{name}@example.com", password=f"{name}-demo-pass"
        )
        assert user is not None and user.email == f"{name}@example.com"


@pytest.mark.django_db
def test_seed_demo_contracts_are_active_today_except_carols():
    call_command("seed_demo")
    alice = Premise.objects.get(reference="PRM-000001")
    assert (
        contract_get_active(premise=alice, direction=Direction.IMPORT).tariff.name == "Fixed Saver"
    )
    downing = Premise.objects.get(reference="PRM-000002")
    assert (
        contract_get_active(premise=downing, direction=Direction.IMPORT).tariff.name == "Economy 7"
    )
    baker = Premise.objects.get(reference="PRM-000003")
    assert baker.address_line1 == "221B Baker Street" and baker.post_code == "NW1 6XE"
    assert contract_get_active(premise=baker, direction=Direction.IMPORT).tariff.name == "EV Flex"
    assert (
        contract_get_active(premise=baker, direction=Direction.EXPORT).tariff.name == "Solar Export"
    )
    carol = Premise.objects.get(reference="PRM-000004")
    assert carol.city == "Leeds"
    assert contract_get_active(premise=carol, direction=Direction.IMPORT) is None
    assert carol.contracts.count() == 1


@pytest.mark.django_db
def test_seed_demo_tariffs_have_the_issue_rates():
    call_command("seed_demo")
    fixed = Tariff.objects.get(name="Fixed Saver")
    assert [str(r.unit_rate) for r in fixed.rules.all()] == ["0.2450"]
    assert str(fixed.standing_charge) == "0.4500"
    e7 = Tariff.objects.get(name="Economy 7")
    assert sorted((r.valid_from, r.valid_to, str(r.unit_rate)) for r in e7.rules.all()) == [
        ("00:00", "00:30", "0.2900"),
        ("00:30", "07:30", "0.1300"),
        ("07:30", "24:00", "0.2900"),
    ]
    assert Tariff.objects.get(name="EV Flex").rules.count() == 5


@pytest.mark.django_db
def test_seed_demo_repairs_a_changed_demo_premise():
    call_command("seed_demo")
    Premise.objects.filter(reference="PRM-000001").update(city="Nowhere")
    Contract.objects.filter(premise__reference="PRM-000001").delete()
    call_command("seed_demo")
    alice = Premise.objects.get(reference="PRM-000001")
    assert alice.city == "London"
    assert contract_get_active(premise=alice, direction=Direction.IMPORT) is not None


@pytest.mark.django_db
@override_settings(DEBUG=False, TESTING=False)
def test_seed_demo_refuses_to_run_in_production_without_force():
    with pytest.raises(CommandError, match="public passwords"):
        call_command("seed_demo")
    assert not User.objects.exists()
    call_command("seed_demo", "--force")
    assert User.objects.count() == 5
