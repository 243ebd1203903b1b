import datetime as dt
from decimal import Decimal

import pytest

from salesmgmt.errors import MissingExchangeRateError
from salesmgmt.money import RateTable, quantize_money
from salesmgmt.services import exchange_rate_set


def test_quantize_money_rounds_half_up_to_cents():
    assert quantize_money(Decimal("1.005")) == Decimal("1.01")
    assert quantize_money(Decimal("-1.005")) == Decimal("-1.01")
    assert quantize_money(Decimal("2.004")) == Decimal("2.00")


@pytest.mark.django_db
def test_convert_uses_the_rate_in_effect_on_the_day():
    exchange_rate_set(
        currency="eur", rate_to_reporting=Decimal("1.10"), effective_on=dt.date(2025, 1, 1)
    )
    exchange_rate_set(
        currency="EUR", rate_to_reporting=Decimal("1.20"), effective_on=dt.date(2025, 7, 1)
    )
    rates = RateTable.load()

    assert rates.convert(Decimal("100"), "EUR", dt.date(2025, 6, 30)) == Decimal("110.00")
    assert rates.convert(Decimal("100"), "EUR", dt.date(2025, 7, 1)) == Decimal("120.00")
    # before the first known rate the earliest applies: an amount is never left out of a sum
    assert rates.convert(Decimal("100"), "EUR", dt.date(2020, 1, 1)) == Decimal("110.00")
    assert rates.convert(Decimal("100"), "USD", dt.date(2020, 1, 1)) == Decimal("100.00")


@pytest.mark.django_db
def test_unknown_currency_is_a_clear_error():
    with pytest.raises(MissingExchangeRateError, match="JPY"):
        RateTable.load().convert(Decimal(1), "JPY", dt.date(2025, 1, 1))
