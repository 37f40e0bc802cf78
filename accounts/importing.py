"""Import a provider's customer base from JSON: validate everything first, then write all or nothing.

The format is documented in README.md ("Importing customers"). Every problem is reported with
its place in the file, e.g. `customers[3].premises[0].country_code: …`, so an operator can fix a
whole file in one pass. Password hashes are accepted only in a format one of our configured
hashers understands; a customer without one gets an unusable password (set later by a reset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from accounts.models import Contract, Direction, Premise, Tariff, TariffRule, User
from accounts.tariffs import tariff_rules_problems
from accounts.validators import WEEKDAY_CODES

PREMISE_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "state",
    "post_code",
    "country_code",
    "meter_point_number",
)
_ABSENT = object()


class ImportInvalid(Exception):
    """The file was not imported; `errors` lists every problem as 'place: message'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


@dataclass
class ImportResult:
    customers_created: int = 0
    customers_updated: int = 0
    premises_created: int = 0
    premises_updated: int = 0
    tariffs_saved: int = 0
    contracts_created: int = 0


@dataclass
class _Plan:
    tariffs: list[tuple[Tariff, list[TariffRule]]] = field(default_factory=list)
    # (user, password hash | None = unusable | _ABSENT = keep, [(premise, contracts or None)])
    customers: list[tuple[User, Any, list[tuple[Premise, list[Contract] | None]]]] = field(
        default_factory=list
    )


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, place: str, message: str) -> None:
        self.items.append(f"{place}: {message}")

    def add_validation(self, place: str, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, errors in error.message_dict.items():
                where = place if name == "__all__" else f"{place}.{name}"
                for message in errors:
                    self.add(where, message)
        else:
            for message in error.messages:
                self.add(place, message)


def _str(record: dict[str, Any], key: str, place: str, errors: _Errors, default: str = "") -> str:
    value = record.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        errors.add(f"{place}.{key}", "must be a string")
        return default
    return value.strip()


def _decimal(value: Any, place: str, errors: _Errors, *, optional: bool = False) -> Decimal | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.add(place, 'must be a decimal number (a string such as "0.2450" is safest)')
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.add(place, f"{value!r} is not a decimal number")
        return None
    if not number.is_finite() or number < 0:
        errors.add(place, "must be a finite number, zero or more")
        return None
    return number


def _instant(value: Any, place: str, errors: _Errors) -> dt.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        errors.add(place, "must be an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z")
        return None
    return parsed


def _list(value: Any, place: str, errors: _Errors) -> list[Any]:
    if not isinstance(value, list):
        errors.add(place, "must be a list")
        return []
    return value


def _object(value: Any, place: str, errors: _Errors) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors.add(place, "must be an object")
        return None
    return value


def _plan_tariff(
    record: dict[str, Any], place: str, errors: _Errors
) -> tuple[Tariff, list[TariffRule]] | None:
    before = len(errors.items)
    name = _str(record, "name", place, errors)
    matches = list(Tariff.objects.filter(name=name).order_by("pk")[:2]) if name else []
    if len(matches) > 1:
        errors.add(f"{place}.name", f"several tariffs are called {name!r}; rename one first")
    tariff = matches[0] if matches else Tariff()
    tariff.name = name
    tariff.currency = _str(record, "currency", place, errors)
    tariff.timezone = _str(record, "timezone", place, errors)
    standing = _decimal(record.get("standing_charge"), f"{place}.standing_charge", errors)
    tariff.standing_charge = standing if standing is not None else Decimal(0)
    tariff.rules_checked_elsewhere = True  # the file's rules replace the saved ones
    try:
        tariff.full_clean()
    except ValidationError as e:
        errors.add_validation(place, e)
    rules: list[TariffRule] = []
    for j, raw in enumerate(_list(record.get("rules"), f"{place}.rules", errors)):
        where = f"{place}.rules[{j}]"
        rule_record = _object(raw, where, errors)
        if rule_record is None:
            continue
        days = rule_record.get("days", list(WEEKDAY_CODES))
        weekdays: Any = days
        if isinstance(days, list) and all(isinstance(d, str) for d in days):
            unknown = [d for d in days if d not in WEEKDAY_CODES]
            if unknown:
                errors.add(f"{where}.days", f"unknown day(s) {unknown}; use MON … SUN")
            weekdays = [WEEKDAY_CODES.index(d) for d in days if d in WEEKDAY_CODES]
        rule = TariffRule(
            tariff=tariff,
            months=rule_record.get("months", list(range(1, 13))),
            weekdays=weekdays,
            valid_from=_str(rule_record, "valid_from", where, errors),
            valid_to=_str(rule_record, "valid_to", where, errors),
            unit_rate=_decimal(rule_record.get("unit_rate"), f"{where}.unit_rate", errors)
            or Decimal(0),
            tier_to_kwh=_decimal(
                rule_record.get("tier_to_kwh"), f"{where}.tier_to_kwh", errors, optional=True
            ),
        )
        try:
            rule.full_clean(exclude=["tariff"])
        except ValidationError as e:
            errors.add_validation(where, e)
        rules.append(rule)
    if len(errors.items) == before:
        for problem in tariff_rules_problems(rules=rules):
            errors.add(f"{place}.rules", problem)
    return (tariff, rules) if len(errors.items) == before else None


def _plan_contracts(
    raw_list: Any,
    place: str,
    errors: _Errors,
    premise: Premise,
    tariffs_by_name: dict[str, Tariff],
) -> list[Contract]:
    contracts: list[Contract] = []
    for k, raw in enumerate(_list(raw_list, place, errors)):
        where = f"{place}[{k}]"
        record = _object(raw, where, errors)
        if record is None:
            continue
        direction = record.get("direction", Direction.IMPORT)
        if direction not in Direction.values:
            errors.add(f"{where}.direction", "must be IMPORT or EXPORT")
        tariff_name = _str(record, "tariff", where, errors)
        tariff = tariffs_by_name.get(tariff_name)
        if tariff is None:
            found = list(Tariff.objects.filter(name=tariff_name)[:2]) if tariff_name else []
            if len(found) == 1:
                tariff = found[0]
            else:
                errors.add(
                    f"{where}.tariff",
                    f"no single tariff called {tariff_name!r} in the file or the database",
                )
        start = _instant(record.get("start"), f"{where}.start", errors)
        end_raw = record.get("end")
        end = None if end_raw is None else _instant(end_raw, f"{where}.end", errors)
        if start is None or tariff is None:
            continue
        if end is not None and end <= start:
            errors.add(f"{where}.end", "must be after start")
            continue
        contract = Contract(premise=premise, tariff=tariff, direction=direction, start_at=start)
        contract.end_at = end
        for other_index, other in enumerate(contracts):
            if other.direction == direction and other.overlaps(start, end):
                errors.add(
                    where,
                    f"overlaps {place}[{other_index}]: a premise has at most one "
                    f"{direction} contract at any time",
                )
        contracts.append(contract)
    return contracts


def _plan_account_number(
    record: dict[str, Any], place: str, user: User, seen: dict[str, int], errors: _Errors
) -> None:
    """`account_number` (optional): the customer's number in the billing platform, which a
    tariff source reads them by. Absent leaves it as it is; null clears it."""
    if "account_number" not in record:
        return
    raw = record["account_number"]
    if raw is None:
        user.account_number = None
        return
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > 64:
        errors.add(f"{place}.account_number", "must be a non-empty string (64 characters at most)")
        return
    number = raw.strip()
    index = int(place.split("[")[1].rstrip("]"))
    if number in seen:
        errors.add(f"{place}.account_number", f"same as customers[{seen[number]}]")
    seen[number] = index
    taken = User.objects.filter(account_number=number).exclude(email__iexact=user.email)
    if taken.exists():
        errors.add(f"{place}.account_number", "already belongs to another customer")
    user.account_number = number


def _plan(data: Any, errors: _Errors) -> _Plan:
    plan = _Plan()
    if isinstance(data, list):
        data = {"customers": data}
    if not isinstance(data, dict):
        errors.add("(file)", 'must be an object {"tariffs": [...], "customers": [...]} or a list')
        return plan
    tariffs_by_name: dict[str, Tariff] = {}
    for i, raw in enumerate(_list(data.get("tariffs", []), "tariffs", errors)):
        record = _object(raw, f"tariffs[{i}]", errors)
        if record is None:
            continue
        planned = _plan_tariff(record, f"tariffs[{i}]", errors)
        if planned is not None:
            if planned[0].name in tariffs_by_name:
                errors.add(f"tariffs[{i}].name", "appears twice in the file")
            tariffs_by_name[planned[0].name] = planned[0]
            plan.tariffs.append(planned)

    seen_emails: dict[str, int] = {}
    seen_accounts: dict[str, int] = {}
    seen_references: dict[str, str] = {}
    for i, raw in enumerate(_list(data.get("customers"), "customers", errors)):
        place = f"customers[{i}]"
        record = _object(raw, place, errors)
        if record is None:
            continue
        email = _str(record, "email", place, errors).lower()
        if email in seen_emails:
            errors.add(f"{place}.email", f"same as customers[{seen_emails[email]}]")
        seen_emails[email] = i
        user = User.objects.filter(email__iexact=email).first() if email else None
        user = user or User(email=email)
        user.full_name = _str(record, "full_name", place, errors, default=user.full_name)
        _plan_account_number(record, place, user, seen_accounts, errors)
        try:
            user.full_clean(exclude=["password"], validate_unique=False)
        except ValidationError as e:
            errors.add_validation(place, e)
        password_hash: Any = record.get("password_hash", _ABSENT)
        if password_hash is not _ABSENT and password_hash is not None:
            try:
                if not isinstance(password_hash, str):
                    raise ValueError
                identify_hasher(password_hash)
            except ValueError:
                errors.add(
                    f"{place}.password_hash",
                    "not a Django password hash in a configured format "
                    "(e.g. argon2$argon2id$…, pbkdf2_sha256$…); use null for no password",
                )
        premises: list[tuple[Premise, list[Contract] | None]] = []
        for j, raw_premise in enumerate(
            _list(record.get("premises", []), f"{place}.premises", errors)
        ):
            where = f"{place}.premises[{j}]"
            premise_record = _object(raw_premise, where, errors)
            if premise_record is None:
                continue
            reference = _str(premise_record, "reference", where, errors)
            if reference in seen_references:
                errors.add(f"{where}.reference", f"same as {seen_references[reference]}")
            seen_references[reference] = where
            premise = Premise.objects.filter(reference=reference).select_related("customer").first()
            if premise is not None and premise.customer.email != email:
                errors.add(
                    f"{where}.reference",
                    "belongs to another customer; moving a premise between customers is not "
                    "done by import (their connected apps would follow it)",
                )
            premise = premise or Premise(reference=reference)
            for name in PREMISE_FIELDS:
                setattr(premise, name, _str(premise_record, name, where, errors))
            try:
                premise.full_clean(exclude=["customer"], validate_unique=False)
            except ValidationError as e:
                errors.add_validation(where, e)
            contracts = None
            if "contracts" in premise_record:
                contracts = _plan_contracts(
                    premise_record["contracts"],
                    f"{where}.contracts",
                    errors,
                    premise,
                    tariffs_by_name,
                )
            premises.append((premise, contracts))
        plan.customers.append((user, password_hash, premises))
    return plan


def customers_import(*, data: Any, dry_run: bool = False) -> ImportResult:
    """Validate `data` (the parsed JSON file) whole, then upsert it in one transaction.

    Raises ImportInvalid listing every problem; in that case nothing is written. With
    `dry_run` the whole import runs and is rolled back, so the counts are exact.
    Upserts: customers by email (case-insensitive), premises by reference, tariffs by name. A
    premise that lists `contracts` gets exactly those (its previous contracts are replaced); one
    without the key keeps its contracts. `password_hash` absent keeps an existing password (new
    customers get an unusable one); null makes it unusable.
    """
    errors = _Errors()
    plan = _plan(data, errors)
    if errors.items:
        raise ImportInvalid(errors.items)
    result = ImportResult()
    with transaction.atomic():
        for tariff, rules in plan.tariffs:
            tariff.save()
            tariff.rules.all().delete()
            for rule in rules:
                rule.tariff = tariff
            TariffRule.objects.bulk_create(rules)
            result.tariffs_saved += 1
        for user, password_hash, premises in plan.customers:
            created = user.pk is None
            if password_hash is None or (created and password_hash is _ABSENT):
                user.set_unusable_password()
            elif password_hash is not _ABSENT:
                user.password = password_hash
            user.save()
            result.customers_created += created
            result.customers_updated += not created
            for premise, contracts in premises:
                premise_created = premise.pk is None
                premise.customer = user
                premise.save()
                result.premises_created += premise_created
                result.premises_updated += not premise_created
                if contracts is not None:
                    premise.contracts.all().delete()
                    for contract in contracts:
                        contract.premise = premise
                        contract.save()
                        result.contracts_created += 1
        if dry_run:
            transaction.set_rollback(True)
    return result
