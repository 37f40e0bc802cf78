from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Tariff, TariffRule
from accounts.services import tariff_save_with_rules
from accounts.tariffs import tariff_rules_problems, tariff_rules_validate

WEEKDAYS = [0, 1, 2, 3, 4]
WEEKEND = [5, 6]


def rule(valid_from, valid_to, rate, *, weekdays=None, months=None, tier=None):
    return TariffRule(
        months=months or list(range(1, 13)),
        weekdays=weekdays if weekdays is not None else list(range(7)),
        valid_from=valid_from,
        valid_to=valid_to,
        unit_rate=Decimal(rate),
        tier_to_kwh=None if tier is None else Decimal(tier),
    )


def test_a_flat_rule_covering_every_day_is_valid():
    assert tariff_rules_problems(rules=[rule("00:00", "24:00", "0.2450")]) == []


def test_economy_7_with_three_windows_is_valid():
    rules = [
        rule("00:00", "00:30", "0.29"),
        rule("00:30", "07:30", "0.13"),
        rule("07:30", "24:00", "0.29"),
    ]
    tariff_rules_validate(rules=rules)


def test_a_gap_is_reported_with_its_times_months_and_days():
    rules = [rule("00:00", "07:30", "0.13"), rule("08:00", "24:00", "0.29")]
    problems = tariff_rules_problems(rules=rules)
    assert problems == ["No rate from 07:30 to 08:00 in every month on every day."]


def test_a_gap_on_weekends_only_names_the_weekend():
    rules = [
        rule("00:00", "24:00", "0.26", weekdays=WEEKDAYS),
        rule("00:00", "12:00", "0.24", weekdays=WEEKEND),
    ]
    assert tariff_rules_problems(rules=rules) == [
        "No rate from 12:00 to 24:00 in every month on weekends."
    ]


def test_a_month_without_rules_is_a_whole_day_gap_named_by_month():
    rules = [rule("00:00", "24:00", "0.2", months=list(range(1, 12)))]
    assert tariff_rules_problems(rules=rules) == [
        "No rate from 00:00 to 24:00 in Dec on every day."
    ]


def test_an_overlap_is_reported_with_the_overlapping_times():
    rules = [
        rule("00:00", "08:00", "0.13"),
        rule("07:30", "24:00", "0.29"),
    ]
    problems = tariff_rules_problems(rules=rules)
    assert len(problems) == 1
    assert problems[0].startswith("More than one rate from 07:30 to 08:00 in every month")


def test_an_overlap_on_one_named_day_names_that_day():
    rules = [
        rule("00:00", "24:00", "0.2"),
        rule("10:00", "11:00", "0.1", weekdays=[2]),
    ]
    problems = tariff_rules_problems(rules=rules)
    assert len(problems) == 1
    assert "10:00 to 11:00" in problems[0] and "on Wed" in problems[0]


def test_tiers_on_an_identical_window_with_one_open_top_are_valid():
    rules = [
        rule("00:00", "24:00", "0.20", tier="100"),
        rule("00:00", "24:00", "0.25", tier="300"),
        rule("00:00", "24:00", "0.30"),
    ]
    assert tariff_rules_problems(rules=rules) == []


def test_tiers_without_an_open_top_are_rejected():
    rules = [
        rule("00:00", "24:00", "0.20", tier="100"),
        rule("00:00", "24:00", "0.30", tier="200"),
    ]
    problems = tariff_rules_problems(rules=rules)
    assert len(problems) == 1
    assert "exactly one tier without a ceiling" in problems[0]


def test_two_open_rates_on_the_same_window_are_rejected():
    rules = [rule("00:00", "24:00", "0.20"), rule("00:00", "24:00", "0.30")]
    assert any(
        "exactly one tier without a ceiling" in p for p in tariff_rules_problems(rules=rules)
    )


def test_tiers_with_the_same_ceiling_are_rejected():
    rules = [
        rule("00:00", "24:00", "0.20", tier="100"),
        rule("00:00", "24:00", "0.25", tier="100"),
        rule("00:00", "24:00", "0.30"),
    ]
    assert any("same ceiling" in p for p in tariff_rules_problems(rules=rules))


def test_a_single_rule_with_a_ceiling_is_rejected():
    rules = [rule("00:00", "24:00", "0.20", tier="100")]
    assert any("without a ceiling" in p for p in tariff_rules_problems(rules=rules))


def test_validate_raises_one_message_per_problem():
    rules = [rule("01:00", "02:00", "0.1"), rule("03:00", "24:00", "0.2")]
    with pytest.raises(ValidationError) as excinfo:
        tariff_rules_validate(rules=rules)
    assert excinfo.value.messages == [
        "No rate from 00:00 to 01:00 in every month on every day.",
        "No rate from 02:00 to 03:00 in every month on every day.",
    ]


@pytest.mark.django_db
def test_saving_a_tariff_with_a_gap_saves_nothing():
    with pytest.raises(ValidationError):
        tariff_save_with_rules(
            name="Broken",
            currency="GBP",
            timezone_name="Europe/London",
            standing_charge=Decimal("0.4"),
            rules=[{"valid_from": "00:00", "valid_to": "12:00", "unit_rate": Decimal("0.2")}],
        )
    assert not Tariff.objects.exists()


@pytest.mark.django_db
def test_saving_a_valid_tariff_replaces_its_rules():
    tariff = tariff_save_with_rules(
        name="Flat",
        currency="GBP",
        timezone_name="Europe/London",
        standing_charge=Decimal("0.4"),
        rules=[{"valid_from": "00:00", "valid_to": "24:00", "unit_rate": Decimal("0.2")}],
    )
    tariff_save_with_rules(
        tariff=tariff,
        name="Two rates",
        currency="GBP",
        timezone_name="Europe/London",
        standing_charge=Decimal("0.4"),
        rules=[
            {"valid_from": "00:00", "valid_to": "12:00", "unit_rate": Decimal("0.1")},
            {"valid_from": "12:00", "valid_to": "24:00", "unit_rate": Decimal("0.3")},
        ],
    )
    assert sorted(r.valid_from for r in tariff.rules.all()) == ["00:00", "12:00"]


@pytest.mark.django_db
def test_tariff_clean_rejects_saved_rules_with_a_gap(make_tariff):
    tariff = make_tariff(rules=[("00:00", "12:00", "0.1"), ("13:00", "24:00", "0.2")])
    with pytest.raises(ValidationError) as excinfo:
        tariff.full_clean()
    assert excinfo.value.messages == ["No rate from 12:00 to 13:00 in every month on every day."]


@pytest.mark.django_db
def test_tariff_clean_accepts_saved_rules_covering_the_week(make_tariff):
    make_tariff(
        name="Economy 7", rules=[("00:00", "07:00", "0.1"), ("07:00", "24:00", "0.2")]
    ).full_clean()


@settings(max_examples=200, deadline=None)
@given(
    windows=st.lists(
        st.tuples(st.integers(0, 47), st.integers(1, 48)).filter(lambda w: w[0] < w[1]),
        min_size=1,
        max_size=5,
    )
)
def test_a_rule_set_is_valid_exactly_when_every_minute_has_one_rate(windows):
    rules = [
        rule(
            f"{a * 30 // 60:02d}:{a * 30 % 60:02d}", f"{b * 30 // 60:02d}:{b * 30 % 60:02d}", "0.1"
        )
        for a, b in windows
    ]
    coverage = [0] * 48
    for a, b in set(windows):
        for slot in range(a, b):
            coverage[slot] += 1
    duplicates = len(windows) != len(set(windows))  # same window twice = two open tiers
    expected_valid = all(c == 1 for c in coverage) and not duplicates
    assert (tariff_rules_problems(rules=rules) == []) == expected_valid
