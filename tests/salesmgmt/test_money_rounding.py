"""One rounding rule for money (issue 16): half a cent up, from Decimals and from floats alike."""

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from forecasting.models import ForecastRollup, Scope
from forecasting.selectors.frames import to_reporting
from forecasting.services.recompute import ROLLUP_FIELDS, _write_rollups
from salesmgmt.models import Period
from salesmgmt.money import RateTable, quantize_money
from salesmgmt.services import periods_ensure
from tests.factories import UserFactory

DAY = dt.date(2026, 1, 15)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.005"), "1.01"),
        (Decimal("-1.005"), "-1.01"),  # half away from zero, as PostgreSQL's round(numeric, 2)
        (2.675, "2.68"),  # the float 2.67499999999999982... stands for 2.675
        (0.125, "0.13"),  # exactly half a cent in binary too: up, not to even
        (np.float64(2.675), "2.68"),
        (np.float32(0.125), "0.13"),
        (0.1 + 0.2, "0.30"),
        (7, "7.00"),
        ("1.005", "1.01"),
    ],
)
def test_money_rounding_half_up_from_any_number(value, expected):
    assert quantize_money(value) == Decimal(expected)


REPORTING = "USD"


def _rates() -> RateTable:
    return RateTable(
        [
            ("EUR", dt.date(2020, 1, 1), Decimal("1.10")),
            ("XTS", dt.date(2020, 1, 1), Decimal("0.01")),
            ("GBP", dt.date(2020, 1, 1), Decimal("1.27345678")),
            ("JPY", dt.date(2020, 1, 1), Decimal("0.00675")),
        ],
        reporting=REPORTING,  # given, so these pure tests need no company settings row
    )


def test_money_rounding_of_converted_deals_is_the_rate_tables():
    # Given products ending in exactly half a cent, which float rounding sends down
    rates = _rates()
    frame = pd.DataFrame(
        {
            "amount": [Decimal("12.50"), Decimal("10.05"), Decimal("100.00"), Decimal("3.00")],
            "currency": ["XTS", "EUR", "JPY", REPORTING],
            "day": [DAY] * 4,
        }
    )
    # When the pandas path converts them
    converted = to_reporting(frame, rates, day_column="day")
    # Then each is what RateTable.convert (and the reference SQL's round) gives
    assert converted.tolist() == [0.13, 11.06, 0.68, 3.0]


def test_money_rounding_of_many_converted_amounts_matches_decimal_conversion():
    rng = random.Random(16)
    rates = _rates()
    currencies = ["EUR", "XTS", "GBP", "JPY", REPORTING]
    amounts = [Decimal(rng.randint(0, 10**11)) / 100 for _ in range(5000)]
    chosen = [rng.choice(currencies) for _ in amounts]
    frame = pd.DataFrame({"amount": amounts, "currency": chosen, "day": [DAY] * len(amounts)})

    converted = to_reporting(frame, rates, day_column="day")

    expected = [float(rates.convert(a, c, DAY)) for a, c in zip(amounts, chosen, strict=True)]
    assert converted.tolist() == expected


@pytest.mark.django_db
def test_money_rounding_of_stored_rollups_rounds_half_up():
    # Given computed figures (floats) ending in half a cent
    periods_ensure(year=DAY.year)
    period = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(DAY.year, 1, 1))
    person = UserFactory()
    figures = pd.DataFrame(
        {name: [0.0] for name in ROLLUP_FIELDS} | {"open_deal_count": [1], "variance": [0.125]},
        index=pd.Index([person.pk], name="person_id"),
    )
    figures["weighted_amount"] = 0.125
    figures["p50_amount"] = 2.675
    figures["commit_amount"] = 10.005
    # When they are stored
    _write_rollups(period, Scope.OWN, figures, timezone.now())
    # Then every amount is rounded half up to the cent, cumulative figures included
    row = ForecastRollup.objects.get(period=period, person=person, scope=Scope.OWN)
    assert row.weighted_amount == Decimal("0.13")
    assert row.projection_weighted_amount == Decimal("0.13")
    assert row.p50_amount == Decimal("2.68")
    assert row.commit_amount == Decimal("10.01")
    assert row.cumulative_commit_amount == Decimal("10.01")
