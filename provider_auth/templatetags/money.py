"""`{% load money %}{{ amount|money:"GBP" }}`: prices in the reader's language.

Babel applies CLDR's rules for the active language ("£0.245" in English, "0,245 £" in German,
"1.234,50 €"), which a hand-written table of symbol positions gets wrong as soon as a provider
adds a language. Unit rates keep their significant decimals (0.2450 → 0.245) but at least two.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.core import UnknownLocaleError
from babel.numbers import UnknownCurrencyError, format_currency
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()


def money_format(
    *, amount: Decimal | float | int | str, currency: str, language: str | None = None
) -> str:
    """`amount` of `currency` (ISO 4217) formatted for `language` (default: the active one)."""
    locale = to_locale(language or get_language() or "en")
    value = Decimal(str(amount))
    try:
        return format_currency(
            value, currency, locale=locale, currency_digits=False, decimal_quantization=False
        )
    except (UnknownCurrencyError, UnknownLocaleError, ValueError):
        # Unknown language or currency: the plain amount and code still read correctly.
        return f"{value} {currency}"


@register.filter(name="money")
def money_filter(amount: object, currency: str = "GBP") -> str:
    if amount is None or amount == "":
        return ""
    try:
        return money_format(amount=amount, currency=currency)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError):
        return ""
