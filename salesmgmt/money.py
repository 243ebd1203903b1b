"""Money rules: one rounding rule and conversion into the reporting currency.

Rounding rule (used everywhere money is stored or shown): amounts are quantized to cents with
ROUND_HALF_UP, the commercial rule people expect on statements and invoices.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .errors import MissingExchangeRateError

CENT = Decimal("0.01")


def quantize_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def reporting_currency() -> str:
    return settings.REPORTING_CURRENCY


class RateTable:
    """All exchange rates, loaded once, to convert many amounts without a query each."""

    def __init__(self, rates: list[tuple[str, dt.date, Decimal]]) -> None:
        self._days: dict[str, list[dt.date]] = defaultdict(list)
        self._rates: dict[str, list[Decimal]] = defaultdict(list)
        for currency, effective_on, rate in sorted(rates):
            self._days[currency].append(effective_on)
            self._rates[currency].append(rate)

    @classmethod
    def load(cls) -> RateTable:
        from .models import ExchangeRate

        return cls(
            list(ExchangeRate.objects.values_list("currency", "effective_on", "rate_to_reporting"))
        )

    def knows(self, currency: str) -> bool:
        return currency == reporting_currency() or currency in self._days

    def rate(self, currency: str, on: dt.date) -> Decimal:
        """The rate in effect on ``on``; before the first known rate, the first one applies."""
        if currency == reporting_currency():
            return Decimal(1)
        days = self._days.get(currency)
        if not days:
            raise MissingExchangeRateError(
                f"No exchange rate for {currency}; add one before using this currency."
            )
        index = bisect.bisect_right(days, on) - 1
        return self._rates[currency][max(index, 0)]

    def convert(self, amount: Decimal, currency: str, on: dt.date) -> Decimal:
        """``amount`` in ``currency`` expressed in the reporting currency, rounded to cents."""
        return quantize_money(amount * self.rate(currency, on))
