"""The one money range (salesmgmt.money): what it holds and why, and every input that uses it."""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from rest_framework import serializers

from csv_import import parsing, specs
from salesmgmt.api.fields import MoneyField as ApiMoneyField
from salesmgmt.forms import MoneyField as FormMoneyField
from salesmgmt.money import MONEY_MAX, is_money, money_validators, parse_money, quantize_money

OVER = MONEY_MAX + Decimal("0.01")


def test_the_range_survives_sqlite_float_storage_and_pandas_sums_to_the_cent():
    # SQLite keeps decimals as float64: the largest amount reads back exactly
    assert Decimal(repr(float(MONEY_MAX))) == MONEY_MAX
    # pandas sums float64: totals under ~10**13 round back to the exact cent, e.g. 100
    # maximal amounts, or 200,000 deals of up to 50 million (fixed seed)
    rng = random.Random(14)
    cents = [rng.randint(0, 5_000_000_000) for _ in range(200_000)]
    for amounts in (
        [MONEY_MAX] * 100,
        [Decimal(c).scaleb(-2) for c in cents],
    ):
        frame = pd.DataFrame({"team": 1, "amount": [float(a) for a in amounts]})
        total = float(frame.groupby("team")["amount"].sum().iloc[0])
        assert quantize_money(Decimal(repr(total))) == sum(amounts)


@pytest.mark.parametrize(
    ("value", "signed", "ok"),
    [
        (Decimal(0), False, True),
        (MONEY_MAX, False, True),
        (OVER, False, False),
        (Decimal("-0.01"), False, False),
        (-MONEY_MAX, True, True),
        (-OVER, True, False),
        (Decimal("1.005"), False, False),  # not whole cents
        (Decimal("NaN"), False, False),
        (Decimal("Infinity"), False, False),
        ("1e30", False, False),
        ("abc", False, False),
    ],
)
def test_is_money(value, signed, ok):
    assert is_money(value, signed=signed) is ok


def test_parse_money_rounds_half_up_and_refuses_outside_the_range():
    assert parse_money("1.005", field="amount") == Decimal("1.01")
    assert parse_money("-5", field="delta", signed=True) == Decimal("-5.00")
    for bad in ("99999999999.995", "1e30", "-1", "NaN", "x"):
        with pytest.raises(ValidationError) as error:
            parse_money(bad, field="amount")
        assert "amount" in error.value.message_dict


def test_model_validators_are_the_range():
    def run(value, signed=False):
        for validator in money_validators(signed=signed):
            validator(value)

    run(MONEY_MAX)
    run(-MONEY_MAX, signed=True)
    for value, signed in ((OVER, False), (Decimal(-1), False), (-OVER, True)):
        with pytest.raises(ValidationError):
            run(value, signed)


class _Amounts(serializers.Serializer):
    amount = ApiMoneyField()
    delta = ApiMoneyField(signed=True)


@pytest.mark.parametrize(
    ("data", "bad_fields"),
    [
        ({"amount": str(MONEY_MAX), "delta": f"-{MONEY_MAX}"}, set()),
        ({"amount": "99999999999999.99", "delta": "0"}, {"amount"}),
        ({"amount": "-1", "delta": "-99999999999999.99"}, {"amount", "delta"}),
        ({"amount": "1.001", "delta": "1e30"}, {"amount", "delta"}),
    ],
)
def test_api_money_field(data, bad_fields):
    serializer = _Amounts(data=data)

    serializer.is_valid()

    assert set(serializer.errors) == bad_fields


def test_form_money_field():
    assert FormMoneyField().clean(str(MONEY_MAX)) == MONEY_MAX
    assert FormMoneyField(signed=True).clean(f"-{MONEY_MAX}") == -MONEY_MAX
    for field, value in (
        (FormMoneyField(), str(OVER)),
        (FormMoneyField(), "-1"),
        (FormMoneyField(signed=True), f"-{OVER}"),
        (FormMoneyField(), "1e30"),
    ):
        with pytest.raises(ValidationError):
            field.clean(value)


def test_csv_import_takes_the_same_range():
    text = (
        "name,annual_revenue\n"
        f"Max,{MONEY_MAX}\n"
        f"Over,{OVER}\n"
        "Negative,-5\n"
        "Probe,99999999999999.99\n"
        'Thousands,"1,250.50"\n'
    )

    parsed = parsing.parse(text, specs.spec_for("accounts"))

    assert {(e.row, e.column) for e in parsed.errors} == {
        (3, "annual_revenue"),
        (4, "annual_revenue"),
        (5, "annual_revenue"),
    }
    assert "99,999,999,999.99" in parsed.errors[0].reason
    revenues = [r.get("annual_revenue") for r in parsed.records if "annual_revenue" in r]
    assert MONEY_MAX in revenues
    assert Decimal("1250.50") in revenues
