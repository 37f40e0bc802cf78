"""A 24-hour price chart of a tariff as server-side inline SVG, with a text alternative and a
data table, so customers see the price curve without any script or chart library.

Everything that ends up in the SVG or the template is built with `format_html` (escaped); numbers
are formatted here, text is translated here. Colours come from `currentColor` and CSS classes
(`chart-area`, `chart-line`, `chart-grid`) so the brand stylesheet can restyle the chart; there
are no inline styles (our CSP forbids them).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.tariffs import (
    ALL_DAYS,
    ALL_MONTHS,
    MINUTES_PER_DAY,
    WEEKDAYS,
    WEEKEND,
    DayProfile,
    Window,
    day_groups,
    minutes_to_wall_clock,
    tariff_week_profile,
)

if TYPE_CHECKING:
    from accounts.models import Tariff

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

# Geometry of the SVG viewBox (scaled to the container width by CSS).
WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 16, 26
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class ChartRow:
    start: str
    end: str
    rate: Decimal
    rate_text: str


@dataclass(frozen=True)
class ChartPanel:
    id: str
    title: str
    summary: str
    svg: SafeString
    rows: tuple[ChartRow, ...]


@dataclass(frozen=True)
class TariffChart:
    """What `templates/includes/tariff_chart.html` renders (context variable `chart`)."""

    id: str
    tariff_name: str
    unit_label: str
    note: str
    panels: tuple[ChartPanel, ...]


def money_per_kwh(rate: Decimal, currency: str) -> str:
    amount = number_format(rate, decimal_pos=4, use_l10n=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    # Translators: a price; reorder for your language, e.g. "%(amount)s %(symbol)s".
    return _("%(symbol)s%(amount)s") % {"symbol": symbol, "amount": amount}


def _days_title(days: list[int]) -> str:
    chosen = frozenset(days)
    if chosen == ALL_DAYS:
        return _("Every day")
    if chosen == WEEKDAYS:
        return _("Monday to Friday")
    if chosen == WEEKEND:
        return _("Saturday and Sunday")
    names = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return ", ".join(names[d] for d in sorted(chosen))


def _nice_step(top: float) -> float:
    for exponent in range(-3, 4):
        for base in (1, 2, 2.5, 5):
            step = base * 10**exponent
            if top / step <= 4:
                return step
    return 10**4


def _x(minutes: int) -> float:
    return LEFT + PLOT_W * minutes / MINUTES_PER_DAY


def _rate_text(window: Window, currency: str) -> str:
    if len(window.tiers) == 1:
        return money_per_kwh(window.unit_rate, currency)
    parts = []
    for tier in window.tiers:
        price = money_per_kwh(tier.unit_rate, currency)
        if tier.to_kwh is None:
            parts.append(_("%(price)s above that") % {"price": price})
        else:
            kwh = number_format(tier.to_kwh.normalize(), use_l10n=True)
            parts.append(_("%(price)s up to %(kwh)s kWh") % {"price": price, "kwh": kwh})
    return "; ".join(parts)


def _summary(day: DayProfile, currency: str) -> str:
    rates = {w.unit_rate for w in day}
    if len(rates) == 1:
        return _("%(price)s per kWh all day.") % {
            "price": money_per_kwh(day[0].unit_rate, currency)
        }
    low, high = min(rates), max(rates)

    def times(rate: Decimal) -> str:
        return ", ".join(
            _("%(start)s to %(end)s")
            % {"start": minutes_to_wall_clock(w.start), "end": minutes_to_wall_clock(w.end)}
            for w in day
            if w.unit_rate == rate
        )

    return _(
        "Cheapest %(low)s per kWh (%(low_times)s); dearest %(high)s per kWh (%(high_times)s)."
    ) % {
        "low": money_per_kwh(low, currency),
        "low_times": times(low),
        "high": money_per_kwh(high, currency),
        "high_times": times(high),
    }


def _svg(day: DayProfile, *, label: str, y_max: float, step: float, currency: str) -> SafeString:
    def y(rate: float) -> float:
        return TOP + PLOT_H * (1 - rate / y_max)

    parts: list[str] = []
    ticks = int(round(y_max / step))
    for i in range(ticks + 1):
        value = step * i
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#9ca3af" '
                'stroke-width="0.5"/><text x="{}" y="{}" text-anchor="end" font-size="10" '
                'fill="currentColor">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                f"{y(value):.1f}",
                f"{y(value):.1f}",
                LEFT - 4,
                f"{y(value) + 3:.1f}",
                number_format(Decimal(str(round(value, 4))), decimal_pos=2, use_l10n=True),
            )
        )
    for hour in (0, 6, 12, 18, 24):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" font-size="10" fill="currentColor">{}</text>',
                f"{_x(hour * 60):.1f}",
                HEIGHT - 8,
                "end" if hour == 24 else "middle",
                f"{hour:02d}:00",
            )
        )
    if day:
        line = [f"M{_x(day[0].start):.1f} {y(float(day[0].unit_rate)):.1f}"]
        for window in day:
            line.append(f"V{y(float(window.unit_rate)):.1f} H{_x(window.end):.1f}")
        path = " ".join(line)
        area = f"{path} V{y(0):.1f} H{_x(day[0].start):.1f} Z"
        parts.append(
            format_html(
                '<path class="chart-area" d="{}" fill="currentColor" fill-opacity="0.12"/>'
                '<path class="chart-line" d="{}" fill="none" stroke="currentColor" '
                'stroke-width="2" stroke-linejoin="round"/>',
                area,
                path,
            )
        )
        for window in day:
            width = _x(window.end) - _x(window.start)
            if width >= 34:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle" font-size="9" '
                        'fill="currentColor">{}</text>',
                        f"{_x(window.start) + width / 2:.1f}",
                        f"{max(y(float(window.unit_rate)) - 4, 9):.1f}",
                        number_format(window.unit_rate, decimal_pos=4, use_l10n=True),
                    )
                )
    return format_html(
        '<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" '
        'focusable="false" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        label,
        mark_safe("".join(parts)),  # noqa: S308 - every part was built by format_html
    )


def tariff_chart_build(
    *, tariff: Tariff, on: dt.date | None = None, id_prefix: str = "tariff-chart"
) -> TariffChart:
    """The chart of `tariff` for the month of `on` (today in the tariff's time zone by default).

    One panel per group of weekdays with identical prices (one panel for a flat or every-day
    tariff; weekdays and weekend for EV Flex). Reads only `tariff.rules.all()`.
    """
    zone = ZoneInfo(tariff.timezone)
    on = on or timezone.now().astimezone(zone).date()
    profile = tariff_week_profile(rules=tariff.rules.all())
    groups = day_groups(profile, on.month)
    all_rates = [float(w.unit_rate) for _days, day in groups for w in day]
    top = max(all_rates, default=0.0) or 0.1
    step = _nice_step(top)
    y_max = math.ceil(top / step - 1e-9) * step
    base_id = slugify(id_prefix) or "tariff-chart"
    panels = []
    for index, (days, day) in enumerate(groups):
        title = _days_title(days)
        summary = _summary(day, tariff.currency) if day else _("No prices on these days.")
        label = _("Price per kWh through the day (%(days)s). %(summary)s") % {
            "days": title,
            "summary": summary,
        }
        panels.append(
            ChartPanel(
                id=f"{base_id}-{index}",
                title=title,
                summary=summary,
                svg=_svg(day, label=label, y_max=y_max, step=step, currency=tariff.currency),
                rows=tuple(
                    ChartRow(
                        start=minutes_to_wall_clock(w.start),
                        end=minutes_to_wall_clock(w.end),
                        rate=w.unit_rate,
                        rate_text=_rate_text(w, tariff.currency),
                    )
                    for w in day
                ),
            )
        )
    seasonal = any(
        day_groups(profile, month) != groups for month in ALL_MONTHS if month != on.month
    )
    month_name = MONTHS[on.month]
    return TariffChart(
        id=base_id,
        tariff_name=tariff.name,
        unit_label=_("%(currency)s per kWh, local time (%(zone)s)")
        % {"currency": tariff.currency, "zone": tariff.timezone},
        note=_("Prices in %(month)s; they change with the season.") % {"month": month_name}
        if seasonal
        else "",
        panels=tuple(panels),
    )


__all__ = ["ChartPanel", "ChartRow", "TariffChart", "tariff_chart_build"]
