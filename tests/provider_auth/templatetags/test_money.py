"""Prices read the way each language writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from provider_auth.templatetags.money import money_format


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", Decimal("0.2450"), "GBP", "£0.245"),
        ("de", Decimal("0.2450"), "GBP", "0,245\xa0£"),
        ("en", Decimal("0.3"), "GBP", "£0.30"),
        ("de", Decimal("1234.5"), "EUR", "1.234,50\xa0€"),
        ("en", Decimal("1234.5"), "EUR", "€1,234.50"),
    ],
)
def test_an_amount_is_formatted_for_the_language(
    language: str, amount: Decimal, currency: str, expected: str
) -> None:
    assert money_format(amount=amount, currency=currency, language=language) == expected


def test_the_filter_follows_the_active_language() -> None:
    template = Template('{% load money %}{{ rate|money:"GBP" }}')
    with translation.override("de"):
        german = template.render(Context({"rate": Decimal("0.1234")}))
    with translation.override("en"):
        english = template.render(Context({"rate": Decimal("0.1234")}))
    assert german == "0,1234\xa0£"
    assert english == "£0.1234"


def test_an_unknown_currency_still_shows_amount_and_code() -> None:
    assert money_format(amount="2.5", currency="XYZ", language="en") == "XYZ2.50"


def test_an_unknown_language_falls_back_to_amount_and_code() -> None:
    assert money_format(amount="2.5", currency="GBP", language="xx") == "2.5 GBP"


@pytest.mark.parametrize("value", [None, "", "not a number"])
def test_the_filter_renders_nothing_for_a_missing_or_broken_amount(value: object) -> None:
    template = Template('{% load money %}[{{ rate|money:"GBP" }}]')
    assert template.render(Context({"rate": value})) == "[]"
