"""Money rules: one rounding rule, one range, and conversion into the reporting currency.

Rounding rule (used everywhere money is stored or shown): amounts are quantized to cents with
ROUND_HALF_UP, the commercial rule people expect on statements and invoices, by one function,
``quantize_money``. It is also PostgreSQL's ``round(numeric, 2)`` (half away from zero), so the
reference SQL of the bench and the reconciliation round the same amounts the same way. A float
(a pandas sum, a simulated quantile) is read as the shortest decimal that gives it back
(``repr``): 2.675 is 2.675 and becomes 2.68, as the same amount does as a Decimal, rather than
its binary neighbour 2.67499999999999982... (which ``f"{x:.2f}"`` or ``round(x, 2)`` round down).

Range (every amount a person, a form, the API or a CSV import can enter): whole cents, at most
``MONEY_MAX`` = 99,999,999,999.99 (just under 10^11) in size; zero or more unless the field is a
signed adjustment. Why this bound:

- PostgreSQL stores inputs as numeric(14,2) or wider: 13 digits leave a digit of headroom, and
  the aggregate columns (numeric(16,2)) hold the sum of a thousand maximal amounts.
- SQLite stores decimals as float64, which gives back exactly any number of at most 15
  significant digits; Django's reader fails on more (issue 14, M3: one 16-digit call made every
  forecast page answer 500). 13 digits read back to the cent.
- pandas sums float64 (rollups, waterfall, balance): a total is exact to the cent while it stays
  under about 10^13 (15 significant digits), e.g. 100 maximal amounts or a million deals
  averaging 10 million; whole-cent totals in float64 would only go further (2^53 cents).
Ratios (shares, percentages, bands) are not money and keep their own, smaller fields.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from .errors import MissingExchangeRateError

CENT = Decimal("0.01")
MONEY_MAX = Decimal("99999999999.99")
# Column size for money inputs: MONEY_MAX fits, and existing numeric(14,2) columns stay as they are.
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def quantize_money(amount: Decimal | float | int | str) -> Decimal:
    """``amount`` in whole cents, ROUND_HALF_UP: the one rounding rule for money."""
    if not isinstance(amount, Decimal):
        # str(float(x)): the shortest decimal that reads back as this float, also for numpy's
        # float64 (whose own repr is "np.float64(...)"); see the module docstring.
        amount = Decimal(str(float(amount)) if isinstance(amount, float) else str(amount))
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def reporting_currency() -> str:
    """The currency every figure is reported in: the company settings' (one query)."""
    from .company_settings import company_settings_get

    return company_settings_get().reporting_currency


def money_range_message(*, signed: bool) -> str:
    low = f"-{MONEY_MAX:,}" if signed else "0"
    return f"Enter an amount between {low} and {MONEY_MAX:,}, in whole cents."


def is_money(value, *, signed: bool = False) -> bool:
    """Whether ``value`` is a finite amount in whole cents within the one range."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return False
    low = -MONEY_MAX if signed else Decimal(0)
    if not amount.is_finite() or not low <= amount <= MONEY_MAX:
        return False
    return amount == amount.quantize(CENT)  # in range, so quantizing cannot overflow


def parse_money(value: object, *, field: str, signed: bool = False) -> Decimal:
    """``value`` as an amount in cents (ROUND_HALF_UP) within the one range, for services.

    Raises ``ValidationError({field: ...})`` for anything else, huge numbers included (checked
    before rounding: quantizing them would raise InvalidOperation, a 500).
    """
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError({field: "Enter a number."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter a number."})
    if not signed and amount < 0:
        raise ValidationError({field: "The amount must be zero or more."})
    if abs(amount) > MONEY_MAX or abs(quantize_money(amount)) > MONEY_MAX:
        raise ValidationError({field: money_range_message(signed=signed)})
    return quantize_money(amount)


def money_field_options(*, signed: bool = False, **options) -> dict:
    """Keyword arguments of a form or serializer DecimalField in the one money range.

    Zero or more unless ``signed``; ``options`` may narrow it (e.g. ``min_value=0.01``).
    """
    options.setdefault("max_digits", MONEY_MAX_DIGITS)
    options.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
    options.setdefault("min_value", -MONEY_MAX if signed else Decimal(0))
    options.setdefault("max_value", MONEY_MAX)
    return options


def money_validators(*, signed: bool = False) -> list:
    """The ``validators=`` of a model field that stores an entered amount.

    Plain min/max validators on purpose: DRF turns them into the serializer field's
    ``min_value``/``max_value`` (so the OpenAPI schema states the range) and ``full_clean``
    runs them for forms, the admin and the services.
    """
    return [
        MinValueValidator(-MONEY_MAX if signed else Decimal(0)),
        MaxValueValidator(MONEY_MAX),
    ]


def share_validators() -> list:
    """A fraction between 0 and 1 (shares, ramp factors): a ratio, not money."""
    return [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class RateTable:
    """All exchange rates, loaded once, to convert many amounts without a query each."""

    def __init__(
        self, rates: list[tuple[str, dt.date, Decimal]], *, reporting: str | None = None
    ) -> None:
        # Read once: a table converts thousands of amounts without asking again.
        self.reporting = reporting or reporting_currency()
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
        return currency == self.reporting or currency in self._days

    def rate(self, currency: str, on: dt.date) -> Decimal:
        """The rate in effect on ``on``; before the first known rate, the first one applies."""
        if currency == self.reporting:
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
