from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from accounts.models import Contract, Direction, TariffRule
from accounts.tariffs import RateInterval, tariff_rates_between
from provider_auth.tariff_api.formats import tariff_to_flatpeak, tariff_to_provider_json
from tests.accounts.tariff_rules import ECONOMY_7, EV_FLEX, rule_set_of

UTC = dt.UTC
START = dt.datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
END = dt.datetime(2027, 3, 31, 23, 0, tzinfo=UTC)


@pytest.fixture
def flat_contract(make_contract, make_tariff, make_premise):
    premise = make_premise(reference="PRM-000001", address_line1="1-3 Strand", post_code="WC2N 5EH")
    return make_contract(premise=premise, tariff=make_tariff(), start_at=START, end_at=END)


@pytest.mark.django_db
def test_flat_tariff_to_flatpeak_is_one_all_months_all_days_entry(flat_contract):
    assert tariff_to_flatpeak(contract=flat_contract) == {
        "direction": "IMPORT",
        "type": "COMMODITY",
        "timezone": "Europe/London",
        "display_name": "Fixed Saver",
        "currency": "GBP",
        "contract_start_date": "2026-04-01T00:00:00Z",
        "contract_end_date": "2027-03-31T23:00:00Z",
        "schedule": [
            {
                "months": ["All"],
                "days_and_hours": [
                    {
                        "days": ["All"],
                        "hours": [
                            {
                                "valid_from": "00:00:00",
                                "valid_to": "00:00:00",
                                "rate": [{"value": 0.245, "to_kwh": None}],
                            }
                        ],
                    }
                ],
            }
        ],
        "market_rates": False,
        "pricing": "schedule",
        "prices_include_vat": True,
        "bidding_zone": None,
        "published_rates": None,
    }


@pytest.mark.django_db
def test_economy_7_to_flatpeak_lists_three_windows_of_every_day(make_contract, make_tariff):
    contract = make_contract(tariff=make_tariff(name="Economy 7", rules=ECONOMY_7), end_at=None)
    element = tariff_to_flatpeak(contract=contract)
    assert element["contract_end_date"] is None
    [entry] = element["schedule"]
    assert entry["months"] == ["All"]
    [day] = entry["days_and_hours"]
    assert day["days"] == ["All"]
    assert [(h["valid_from"], h["valid_to"], h["rate"][0]["value"]) for h in day["hours"]] == [
        ("00:00:00", "00:30:00", 0.29),
        ("00:30:00", "07:30:00", 0.13),
        ("07:30:00", "00:00:00", 0.29),
    ]


@pytest.mark.django_db
def test_ev_flex_to_flatpeak_splits_weekdays_and_weekend(make_contract, make_tariff):
    contract = make_contract(tariff=make_tariff(name="EV Flex", rules=EV_FLEX))
    [entry] = tariff_to_flatpeak(contract=contract)["schedule"]
    weekdays, weekend = entry["days_and_hours"]
    assert weekdays["days"] == ["Weekdays"]
    assert [(h["valid_from"], h["valid_to"], h["rate"][0]["value"]) for h in weekdays["hours"]] == [
        ("00:00:00", "05:00:00", 0.085),
        ("05:00:00", "16:00:00", 0.26),
        ("16:00:00", "19:00:00", 0.38),
        ("19:00:00", "00:00:00", 0.26),
    ]
    assert weekend["days"] == ["Weekend"]
    assert [(h["valid_from"], h["valid_to"], h["rate"][0]["value"]) for h in weekend["hours"]] == [
        ("00:00:00", "05:00:00", 0.085),
        ("05:00:00", "00:00:00", 0.24),
    ]


@pytest.mark.django_db
def test_seasonal_rules_become_separate_month_entries_with_tiers(make_contract, make_tariff):
    winter = [1, 2, 3, 10, 11, 12]
    summer = [4, 5, 6, 7, 8, 9]
    tariff = make_tariff(rules=[("00:00", "24:00", "0.30", list(range(7)), winter)])
    TariffRule.objects.create(
        tariff=tariff,
        months=summer,
        valid_from="00:00",
        valid_to="24:00",
        unit_rate=Decimal("0.20"),
        tier_to_kwh=Decimal("100"),
    )
    TariffRule.objects.create(
        tariff=tariff,
        months=summer,
        valid_from="00:00",
        valid_to="24:00",
        unit_rate=Decimal("0.25"),
    )
    schedule = tariff_to_flatpeak(contract=make_contract(tariff=tariff))["schedule"]
    assert [s["months"] for s in schedule] == [
        ["Jan", "Feb", "Mar", "Oct", "Nov", "Dec"],
        ["Apr", "May", "Jun", "Jul", "Aug", "Sep"],
    ]
    summer_rates = schedule[1]["days_and_hours"][0]["hours"][0]["rate"]
    assert summer_rates == [{"value": 0.2, "to_kwh": 100.0}, {"value": 0.25, "to_kwh": None}]


@pytest.mark.django_db
def test_named_days_are_listed_when_they_are_not_a_weekday_or_weekend_block(
    make_contract, make_tariff
):
    tariff = make_tariff(
        rules=[("00:00", "24:00", "0.30", [0, 1, 2, 3, 4, 5]), ("00:00", "24:00", "0.10", [6])]
    )
    days = [
        d["days"]
        for d in tariff_to_flatpeak(contract=make_contract(tariff=tariff))["schedule"][0][
            "days_and_hours"
        ]
    ]
    assert days == [["Weekdays", "Saturday"], ["Sunday"]]


@pytest.mark.django_db
def test_provider_json_documents_rates_dates_and_premise(flat_contract):
    data = tariff_to_provider_json(contract=flat_contract)
    assert data["name"] == "Fixed Saver"
    assert data["direction"] == "IMPORT"
    assert data["currency"] == "GBP"
    assert data["timezone"] == "Europe/London"
    assert data["standing_charge"] == 0.45
    assert data["rules"] == [
        {
            "months": list(range(1, 13)),
            "days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
            "valid_from": "00:00",
            "valid_to": "24:00",
            "unit_rate": 0.245,
            "tier_to_kwh": None,
        }
    ]
    assert data["contract_start_date"] == "2026-04-01T00:00:00Z"
    assert data["contract_end_date"] == "2027-03-31T23:00:00Z"
    assert data["premise"]["reference"] == "PRM-000001"
    assert data["premise"]["postal_address"]["post_code"] == "WC2N 5EH"
    assert data["updated_at"].endswith("Z")
    # Plain JSON: numbers, strings and nulls only.
    assert json.loads(json.dumps(data)) == data


@pytest.mark.django_db
def test_conversions_only_touch_prefetched_relations(make_contract, make_tariff):
    make_contract(tariff=make_tariff(name="EV Flex", rules=EV_FLEX), direction=Direction.EXPORT)
    contract = (
        Contract.objects.select_related("tariff", "premise")
        .prefetch_related(Prefetch("tariff__rules"))
        .get()
    )
    with CaptureQueriesContext(connection) as queries:
        tariff_to_flatpeak(contract=contract)
        tariff_to_provider_json(contract=contract)
        tariff_rates_between(
            **rule_set_of(contract.tariff), start=START, end=START + dt.timedelta(days=7)
        )
    assert len(queries) == 0


def _hours(interval: RateInterval) -> float:
    return (interval.end - interval.start).total_seconds() / 3600


@pytest.mark.django_db
def test_rates_on_the_spring_dst_day_give_economy_7_six_real_hours(make_tariff):
    tariff = make_tariff(name="Economy 7", rules=ECONOMY_7)
    # 2026-03-29 in London: 00:00 GMT (= 00:00Z) to 00:00 BST next day (= 23:00Z), 23 hours.
    rates = tariff_rates_between(
        **rule_set_of(tariff),
        start=dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        end=dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
    )
    assert [(r.start, r.end, r.unit_rate) for r in rates] == [
        (
            dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
            dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            Decimal("0.29"),
        ),
        (
            dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 29, 6, 30, tzinfo=UTC),
            Decimal("0.13"),
        ),
        (
            dt.datetime(2026, 3, 29, 6, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
            Decimal("0.29"),
        ),
    ]
    assert _hours(rates[1]) == 6


@pytest.mark.django_db
def test_rates_on_the_autumn_dst_day_give_economy_7_eight_real_hours(make_tariff):
    tariff = make_tariff(name="Economy 7", rules=ECONOMY_7)
    # 2026-10-25 in London: 00:00 BST (= 24 Oct 23:00Z) to 00:00 GMT (= 25 Oct 24:00Z), 25 hours.
    rates = tariff_rates_between(
        **rule_set_of(tariff),
        start=dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        end=dt.datetime(2026, 10, 26, 0, 0, tzinfo=UTC),
    )
    cheap = [r for r in rates if r.unit_rate == Decimal("0.13")]
    assert len(cheap) == 1
    assert cheap[0].start == dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert cheap[0].end == dt.datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    assert _hours(cheap[0]) == 8
    assert sum(_hours(r) for r in rates) == 25


@pytest.mark.django_db
def test_rates_are_contiguous_merged_and_clipped_to_the_request(make_tariff):
    tariff = make_tariff(name="EV Flex", rules=EV_FLEX)
    # Friday 2026-07-03 18:00 BST to Saturday 06:00 BST.
    start = dt.datetime(2026, 7, 3, 17, 0, tzinfo=UTC)
    end = dt.datetime(2026, 7, 4, 5, 0, tzinfo=UTC)
    rates = tariff_rates_between(**rule_set_of(tariff), start=start, end=end)
    assert [(r.start.hour, r.end.hour, str(r.unit_rate)) for r in rates] == [
        (17, 18, "0.3800"),  # 18:00-19:00 BST peak
        (18, 23, "0.2600"),  # 19:00-24:00
        (23, 4, "0.0850"),  # 00:00-05:00 Saturday
        (4, 5, "0.2400"),  # 05:00-06:00 weekend
    ]
    assert rates[0].start == start and rates[-1].end == end
    assert all(a.end == b.start for a, b in zip(rates, rates[1:], strict=False))
    assert all(r.start.tzinfo == UTC for r in rates)


@pytest.mark.django_db
def test_a_flat_tariff_over_a_year_is_one_interval(make_tariff):
    rates = tariff_rates_between(**rule_set_of(make_tariff()), start=START, end=END)
    assert len(rates) == 1
    assert (rates[0].start, rates[0].end) == (START, END)


@pytest.mark.django_db
def test_rates_need_aware_datetimes(make_tariff):
    with pytest.raises(ValueError):
        tariff_rates_between(
            **rule_set_of(make_tariff()),
            start=dt.datetime(2026, 1, 1),  # noqa: DTZ001
            end=dt.datetime(2026, 1, 2),  # noqa: DTZ001
        )


@pytest.mark.django_db
def test_a_year_of_ev_flex_is_contiguous_and_counts_every_real_hour(make_tariff):
    tariff = make_tariff(name="EV Flex", rules=EV_FLEX)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    end = dt.datetime(2027, 1, 1, tzinfo=UTC)
    rates = tariff_rates_between(**rule_set_of(tariff), start=start, end=end)
    assert rates[0].start == start and rates[-1].end == end
    assert all(
        a.end == b.start and a.unit_rate != b.unit_rate
        for a, b in zip(rates, rates[1:], strict=False)
    )
    peak_hours = sum(_hours(r) for r in rates if r.unit_rate == Decimal("0.38"))
    assert peak_hours == 261 * 3  # 261 weekdays in 2026, 16:00-19:00 local each


@pytest.mark.django_db
def test_rates_refuse_instants_at_the_edge_of_the_calendar(make_tariff):
    with pytest.raises(ValueError):
        tariff_rates_between(
            **rule_set_of(make_tariff()),
            start=dt.datetime(9999, 1, 1, tzinfo=UTC),
            end=dt.datetime(9999, 12, 31, tzinfo=UTC),
        )
