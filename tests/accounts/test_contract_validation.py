from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Contract, Direction
from accounts.services import _contract_save, contract_create, contract_update

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.mark.django_db
def test_an_overlapping_contract_in_the_same_direction_is_rejected(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    contract_create(premise=premise, tariff=tariff, start_at=T0, end_at=T0 + days(365))
    with pytest.raises(ValidationError) as excinfo:
        contract_create(premise=premise, tariff=tariff, start_at=T0 + days(100))
    assert "Import contract in force" in excinfo.value.messages[0]
    assert "2026-01-01" in excinfo.value.messages[0]
    assert Contract.objects.count() == 1


@pytest.mark.django_db
def test_an_open_ended_contract_blocks_every_later_start(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    contract_create(premise=premise, tariff=tariff, start_at=T0)
    with pytest.raises(ValidationError):
        contract_create(premise=premise, tariff=tariff, start_at=T0 + days(3000))


@pytest.mark.django_db
def test_a_contract_starting_when_the_previous_ends_is_accepted(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    contract_create(premise=premise, tariff=tariff, start_at=T0, end_at=T0 + days(10))
    contract_create(premise=premise, tariff=tariff, start_at=T0 + days(10))
    assert Contract.objects.filter(premise=premise).count() == 2


@pytest.mark.django_db
def test_import_and_export_contracts_may_run_at_the_same_time(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    contract_create(premise=premise, tariff=tariff, start_at=T0)
    contract_create(premise=premise, tariff=tariff, direction=Direction.EXPORT, start_at=T0)
    assert Contract.objects.filter(premise=premise).count() == 2


@pytest.mark.django_db
def test_different_premises_do_not_clash(make_premise, make_tariff):
    tariff = make_tariff()
    contract_create(premise=make_premise(), tariff=tariff, start_at=T0)
    contract_create(premise=make_premise(), tariff=tariff, start_at=T0)
    assert Contract.objects.count() == 2


@pytest.mark.django_db
def test_editing_a_contract_does_not_clash_with_itself(make_premise, make_tariff):
    contract = contract_create(premise=make_premise(), tariff=make_tariff(), start_at=T0)
    contract_update(contract=contract, end_at=T0 + days(30))
    contract.refresh_from_db()
    assert contract.end_at == T0 + days(30)


@pytest.mark.django_db
def test_a_contract_ending_before_it_starts_is_rejected(make_premise, make_tariff):
    with pytest.raises(ValidationError) as excinfo:
        contract_create(
            premise=make_premise(), tariff=make_tariff(), start_at=T0, end_at=T0 - days(1)
        )
    assert "end_at" in excinfo.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_refuses_overlapping_contracts_written_past_validation(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    Contract.objects.create(premise=premise, tariff=tariff, start_at=T0, end_at=T0 + days(20))
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(premise=premise, tariff=tariff, start_at=T0 + days(19))
    # Touching intervals ([start, end) ranges) and the other direction stay allowed.
    Contract.objects.create(premise=premise, tariff=tariff, start_at=T0 + days(20))
    Contract.objects.create(premise=premise, tariff=tariff, direction=Direction.EXPORT, start_at=T0)
    assert Contract.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_constraint_violation_is_reported_as_a_validation_error(make_premise, make_tariff):
    premise, tariff = make_premise(), make_tariff()
    contract_create(premise=premise, tariff=tariff, start_at=T0)
    # What a writer that raced past clean() reaches: the save itself.
    racing = Contract(premise=premise, tariff=tariff, start_at=T0 + days(1))
    with pytest.raises(ValidationError, match="overlaps this period"):
        _contract_save(racing)
    assert Contract.objects.count() == 1
