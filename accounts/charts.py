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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Pricing
from accounts.prices import PriceInterval, PriceSeries
from accounts.tariffs import (
    ALL_DAYS,
    ALL_MONTHS,
    MINUTES_PER_DAY,
    WEEKDAYS,
    WEEKEND,
    DayProfile,
    Tier,
    Window,
    day_groups,
    minutes_to_wall_clock,
    tariff_week_profile,
)

if TYPE_CHECKING:
    from accounts.models import Tariff

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

# The known prices of the charted tariff over [start, end), e.g. a tariff source's
# `prices_between` for the contract; our price tables by the tariff's key when not given.
PricesBetween = Callable[[dt.datetime, dt.datetime], PriceSeries]

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
    amount = number_format(abs(rate), decimal_pos=4, use_l10n=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    # Translators: a price; reorder for your language, e.g. "%(amount)s %(symbol)s".
    price = _("%(symbol)s%(amount)s") % {"symbol": symbol, "amount": amount}
    # A negative price (customers are paid to use power) reads "-£0.0500", not "£-0.0500".
    return "-" + price if rate < 0 else price


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


def _x(minutes: int, day_minutes: int = MINUTES_PER_DAY) -> float:
    return LEFT + PLOT_W * minutes / day_minutes


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


def _svg(
    day: DayProfile,
    *,
    label: str,
    y_max: float,
    step: float,
    currency: str,
    y_min: float = 0.0,
    day_minutes: int = MINUTES_PER_DAY,
    hour_labels: tuple[tuple[int, str], ...] | None = None,
) -> SafeString:
    """`day`'s windows as a step line over [y_min, y_max]; a negative price is drawn below the
    zero line (the area is filled towards zero, so it hangs below it). `day_minutes`: the day's
    real length (1380 or 1500 on a DST day), `hour_labels`: (minute, label) of the time axis."""

    def y(rate: float) -> float:
        return TOP + PLOT_H * (y_max - rate) / (y_max - y_min)

    def x(minutes: int) -> float:
        return _x(minutes, day_minutes)

    parts: list[str] = []
    first_tick = int(round(y_min / step))
    last_tick = int(round(y_max / step))
    for i in range(first_tick, last_tick + 1):
        value = step * i
        parts.append(
            format_html(
                '<line class="chart-grid{}" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#9ca3af" '
                'stroke-width="{}"/><text x="{}" y="{}" text-anchor="end" font-size="10" '
                'fill="currentColor">{}</text>',
                " chart-zero" if i == 0 else "",
                LEFT,
                WIDTH - RIGHT,
                f"{y(value):.1f}",
                f"{y(value):.1f}",
                "1" if i == 0 else "0.5",
                LEFT - 4,
                f"{y(value) + 3:.1f}",
                number_format(Decimal(str(round(value, 4))), decimal_pos=2, use_l10n=True),
            )
        )
    labels = hour_labels or tuple((hour * 60, f"{hour:02d}:00") for hour in (0, 6, 12, 18, 24))
    for minute, text in labels:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" font-size="10" fill="currentColor">{}</text>',
                f"{x(minute):.1f}",
                HEIGHT - 8,
                "end" if minute == day_minutes else "middle",
                text,
            )
        )
    if day:
        line = [f"M{x(day[0].start):.1f} {y(float(day[0].unit_rate)):.1f}"]
        previous_end = day[0].start
        for window in day:
            if window.start != previous_end:  # a gap: no price there, so no line either
                line.append(f"M{x(window.start):.1f} {y(float(window.unit_rate)):.1f}")
            line.append(f"V{y(float(window.unit_rate)):.1f} H{x(window.end):.1f}")
            previous_end = window.end
        path = " ".join(line)
        area = " ".join(
            f"M{x(w.start):.1f} {y(0):.1f} V{y(float(w.unit_rate)):.1f} "
            f"H{x(w.end):.1f} V{y(0):.1f} Z"
            for w in day
        )
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
            width = x(window.end) - x(window.start)
            if width >= 34:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle" font-size="9" '
                        'fill="currentColor">{}</text>',
                        f"{x(window.start) + width / 2:.1f}",
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


def _axis(top: float, bottom: float) -> tuple[float, float, float]:
    """(y_min, y_max, step) of a price axis that shows zero and every price."""
    span = max(top, 0.0) - min(bottom, 0.0) or 0.1
    step = _nice_step(span)
    y_max = math.ceil(max(top, 0.0) / step - 1e-9) * step or step
    y_min = math.floor(min(bottom, 0.0) / step + 1e-9) * step
    return y_min, y_max, step


def _series_windows(
    intervals: tuple[PriceInterval, ...], *, start: dt.datetime, zone: ZoneInfo
) -> tuple[list[Window], list[tuple[str, str, Decimal]]]:
    """Intervals of one local day as windows in real minutes since its midnight (adjacent equal
    prices merged), with the wall-clock (from, to, price) of each merged window."""
    windows: list[Window] = []
    spans: list[tuple[dt.datetime, dt.datetime, Decimal]] = []
    for interval in intervals:
        if spans and spans[-1][1] == interval.valid_from and spans[-1][2] == interval.rate:
            spans[-1] = (spans[-1][0], interval.valid_to, interval.rate)
        else:
            spans.append((interval.valid_from, interval.valid_to, interval.rate))
    labelled = []
    for lo, hi, rate in spans:
        windows.append(
            Window(
                start=int((lo - start).total_seconds() // 60),
                end=int((hi - start).total_seconds() // 60),
                tiers=(Tier(to_kwh=None, unit_rate=rate),),
            )
        )
        labelled.append((lo.astimezone(zone).strftime("%H:%M"), _end_label(hi, zone, start), rate))
    return windows, labelled


def _end_label(instant: dt.datetime, zone: ZoneInfo, day_start: dt.datetime) -> str:
    local = instant.astimezone(zone)
    if local.time() == dt.time() and instant > day_start:
        return "24:00"
    return local.strftime("%H:%M")


def _series_summary(labelled: list[tuple[str, str, Decimal]], currency: str) -> str:
    rates = {rate for _lo, _hi, rate in labelled}
    if len(rates) == 1:
        return _("%(price)s per kWh throughout.") % {
            "price": money_per_kwh(labelled[0][2], currency)
        }
    low, high = min(rates), max(rates)

    def times(rate: Decimal) -> str:
        return ", ".join(
            _("%(start)s to %(end)s") % {"start": lo, "end": hi}
            for lo, hi, r in labelled
            if r == rate
        )

    return _(
        "Cheapest %(low)s per kWh (%(low_times)s); dearest %(high)s per kWh (%(high_times)s)."
    ) % {
        "low": money_per_kwh(low, currency),
        "low_times": times(low),
        "high": money_per_kwh(high, currency),
        "high_times": times(high),
    }


def _hour_labels(
    start: dt.datetime, day_minutes: int, zone: ZoneInfo
) -> tuple[tuple[int, str], ...]:
    # Every six hours of real time, labelled with the wall clock (so 23- and 25-hour days read
    # right: the spring day's axis ends at 24:00 after 23 hours).
    labels = []
    for minute in range(0, day_minutes, 360):
        labels.append(
            (minute, (start + dt.timedelta(minutes=minute)).astimezone(zone).strftime("%H:%M"))
        )
    labels.append((day_minutes, "24:00"))
    return tuple(labels)


def _price_series_chart(
    *, tariff: Tariff, on: dt.date, base_id: str, prices: PricesBetween | None
) -> TariffChart:
    """Today and — once published — tomorrow of a published or market-indexed tariff, from the
    prices actually published (nothing invented: a day without prices says so)."""
    from accounts.price_selectors import tariff_prices_between
    from accounts.prices import local_day_bounds

    zone = ZoneInfo(tariff.timezone)
    today_start, _today_end = local_day_bounds(day=on, timezone=tariff.timezone)
    _tomorrow_start, tomorrow_end = local_day_bounds(
        day=on + dt.timedelta(days=1), timezone=tariff.timezone
    )
    if prices is None:
        series = tariff_prices_between(tariff=tariff, start=today_start, end=tomorrow_end)
    else:
        series = prices(today_start, tomorrow_end)
    days = [(on, _("Today")), (on + dt.timedelta(days=1), _("Tomorrow"))]
    by_day = []
    for day, name in days:
        start, end = local_day_bounds(day=day, timezone=tariff.timezone)
        intervals = tuple(i for i in series.intervals if start <= i.valid_from < end)
        if day != on and not intervals:
            continue  # tomorrow's prices are not published yet
        by_day.append((day, name, start, end, intervals))
    rates = [float(i.rate) for *_rest, intervals in by_day for i in intervals]
    y_min, y_max, step = _axis(max(rates, default=0.1), min(rates, default=0.0))
    panels = []
    for index, (day, name, start, end, intervals) in enumerate(by_day):
        day_minutes = int((end - start).total_seconds() // 60)
        windows, labelled = _series_windows(intervals, start=start, zone=zone)
        title = _("%(name)s, %(date)s") % {
            "name": name,
            "date": date_format(day, "DATE_FORMAT"),
        }
        summary = (
            _series_summary(labelled, tariff.currency)
            if labelled
            else _("No prices are published for this day yet.")
        )
        label = _("Price per kWh through the day (%(days)s). %(summary)s") % {
            "days": title,
            "summary": summary,
        }
        panels.append(
            ChartPanel(
                id=f"{base_id}-{index}",
                title=title,
                summary=summary,
                svg=_svg(
                    tuple(windows),
                    label=label,
                    y_max=y_max,
                    y_min=y_min,
                    step=step,
                    currency=tariff.currency,
                    day_minutes=day_minutes,
                    hour_labels=_hour_labels(start, day_minutes, zone),
                ),
                rows=tuple(
                    ChartRow(
                        start=lo, end=hi, rate=rate, rate_text=money_per_kwh(rate, tariff.currency)
                    )
                    for lo, hi, rate in labelled
                ),
            )
        )
    return TariffChart(
        id=base_id,
        tariff_name=tariff.name,
        unit_label=_("%(currency)s per kWh, local time (%(zone)s)")
        % {"currency": tariff.currency, "zone": tariff.timezone},
        note=_("Prices change every interval and are published a day ahead.")
        if tariff.pricing == Pricing.PUBLISHED
        else _("Prices follow the wholesale market, plus this tariff's surcharges."),
        panels=tuple(panels),
    )


def tariff_chart_build(
    *,
    tariff: Tariff,
    on: dt.date | None = None,
    id_prefix: str = "tariff-chart",
    prices: PricesBetween | None = None,
) -> TariffChart:
    """The chart of `tariff` for the month of `on` (today in the tariff's time zone by default).

    One panel per group of weekdays with identical prices (one panel for a flat or every-day
    tariff; weekdays and weekend for EV Flex). Reads only `tariff.rules.all()`.

    A published or market-indexed tariff shows its concrete prices instead: a panel for today
    and, once published, one for tomorrow: from `prices` when given (a tariff that is not a row
    of ours, e.g. a tariff source's stand-in), else from our price tables (two queries, see
    `tariff_prices_between`).
    """
    zone = ZoneInfo(tariff.timezone)
    on = on or timezone.now().astimezone(zone).date()
    base_id = slugify(id_prefix) or "tariff-chart"
    if tariff.pricing != Pricing.SCHEDULE:
        return _price_series_chart(tariff=tariff, on=on, base_id=base_id, prices=prices)
    profile = tariff_week_profile(rules=tariff.rules.all())
    groups = day_groups(profile, on.month)
    all_rates = [float(w.unit_rate) for _days, day in groups for w in day]
    top = max(all_rates, default=0.0) or 0.1
    step = _nice_step(top)
    y_max = math.ceil(top / step - 1e-9) * step
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
