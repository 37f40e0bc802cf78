"""Dates and numbers read the way each language writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import formats, translation


@pytest.mark.parametrize(("language", "expected"), [("en", "25 May 2026"), ("de", "25. Mai 2026")])
def test_a_date_is_written_day_first_in_both_languages(language: str, expected: str) -> None:
    with translation.override(language):
        assert formats.date_format(dt.date(2026, 5, 25)) == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "14:30"), ("de", "14:30")])
def test_times_use_the_24_hour_clock(language: str, expected: str) -> None:
    with translation.override(language):
        assert formats.time_format(dt.time(14, 30)) == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "1,234.50"), ("de", "1.234,50")])
def test_numbers_use_the_language_s_separators(language: str, expected: str) -> None:
    with translation.override(language):
        assert formats.number_format(Decimal("1234.5"), 2, force_grouping=True) == expected


def test_weeks_start_on_monday_in_english_too() -> None:
    with translation.override("en"):
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
