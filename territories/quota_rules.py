"""The arithmetic of quotas: exact splits, ramp factors and the rep formula. No ORM.

Rounding: money is quantized to cents with ROUND_HALF_UP (salesmgmt.money.quantize_money).
Splitting a total uses the largest-remainder method in whole cents, so the parts always add
up to the total exactly: each part gets the floor of its exact share (computed with
fractions, never floats), and the cents left over go one each to the parts with the largest
remainders (ties: the earlier part). Ramp factors are kept to four decimals, ROUND_HALF_UP.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from salesmgmt.money import quantize_money

DEFAULT_RAMP_PERCENTAGES: tuple[int, ...] = (25, 50, 75, 100)
FACTOR = Decimal("0.0001")


def split_exactly(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """``total`` split in proportion to ``weights``; the parts add up to it to the cent."""
    if not weights:
        raise ValueError("Nothing to split over.")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("Weights cannot be negative.")
    weight_sum = sum(Fraction(Decimal(w)) for w in weights)
    if weight_sum == 0:
        raise ValueError("The weights add up to zero.")
    cents = int(quantize_money(Decimal(total)) * 100)
    exact = [Fraction(cents) * Fraction(Decimal(w)) / weight_sum for w in weights]
    parts = [math.floor(share) for share in exact]
    left_over = cents - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[:left_over]:
        parts[i] += 1
    return [Decimal(part) / 100 for part in parts]


def _month_starts(start_on: dt.date, end_on: dt.date) -> list[dt.date]:
    months, day = [], start_on.replace(day=1)
    while day <= end_on:
        months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def tenure_month(hire_date: dt.date, month_start: dt.date) -> int:
    """1 for the calendar month of the hire date, 2 for the next, ...; 0 before the hire."""
    months = (month_start.year - hire_date.year) * 12 + month_start.month - hire_date.month
    return max(months + 1, 0)


def month_factor(tenure: int, percentages: Sequence[int | float]) -> Decimal:
    if tenure <= 0:
        return Decimal(0)
    percentages = percentages or DEFAULT_RAMP_PERCENTAGES
    return Decimal(str(percentages[min(tenure, len(percentages)) - 1])) / 100


def ramp_factor(
    *,
    hire_date: dt.date | None,
    start_on: dt.date,
    end_on: dt.date,
    percentages: Sequence[int | float] = DEFAULT_RAMP_PERCENTAGES,
) -> Decimal:
    """The mean monthly ramp factor over the period's calendar months (1 without a hire date).

    Example with the default 25/50/75/100: hired 10 Feb, Q1 = Jan 0 + Feb 0.25 + Mar 0.50,
    so the quarter's factor is 0.25.
    """
    if hire_date is None:
        return Decimal(1)
    months = _month_starts(start_on, end_on)
    total = sum((month_factor(tenure_month(hire_date, m), percentages) for m in months), Decimal(0))
    return (total / len(months)).quantize(FACTOR, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RampState:
    """Where a person stands in their ramp; ``tenure_month`` is None without a hire date."""

    tenure_month: int | None
    percent: Decimal
    is_ramping: bool

    def __str__(self) -> str:
        if self.tenure_month == 0:
            return "Not started yet"
        if not self.is_ramping:
            return "Fully ramped"
        return f"Ramping: month {self.tenure_month} ({self.percent:f}%)"


def ramp_state(
    *,
    hire_date: dt.date | None,
    on: dt.date,
    percentages: Sequence[int | float] = DEFAULT_RAMP_PERCENTAGES,
) -> RampState:
    if hire_date is None:
        return RampState(None, Decimal(100), False)
    tenure = tenure_month(hire_date, on.replace(day=1))
    percent = month_factor(tenure, percentages) * 100
    return RampState(tenure, percent.normalize(), tenure > 0 and percent < 100)


def ramped_amount(
    territory_quota: Decimal, share: Decimal, ramp: Decimal, adjustment: Decimal
) -> Decimal:
    """A rep's quota: territory quota * assignment share * ramp factor + manager adjustment."""
    return quantize_money(territory_quota * share * ramp) + quantize_money(adjustment)


def unramped_amount(territory_quota: Decimal, share: Decimal, adjustment: Decimal) -> Decimal:
    """The same quota once fully ramped (ramp factor 1)."""
    return ramped_amount(territory_quota, share, Decimal(1), adjustment)
