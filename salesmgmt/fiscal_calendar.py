"""The fiscal calendar: which fiscal year a day falls in and the bounds of its year, quarters
and months, from the month the fiscal year starts in. Pure date arithmetic, no database.

Naming: a fiscal year is named by the calendar year it *ends* in (Salesforce's default,
"fiscal year is based on the ending month"; also the US federal and most retail calendars).
A fiscal year starting in February 2025 ends in January 2026 and is FY2026; with the
default start in January, FY2026 is the calendar year 2026. Quarters are named after their
year ("FY2026 Q1" = Feb to Apr 2025); months keep their calendar names ("Feb 2025").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# A sane window: real histories go back decades, never centuries (and a typo of 20256 would
# otherwise create thousands of periods).
FIRST_FISCAL_YEAR = 1900
LAST_FISCAL_YEAR = 2200
MAX_FISCAL_YEARS = 60  # generated in one call


@dataclass(frozen=True)
class PeriodBounds:
    kind: str  # a Period.Kind value: "year", "quarter" or "month"
    name: str
    start_on: dt.date
    end_on: dt.date


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fiscal_year_of(day: dt.date, *, start_month: int) -> int:
    """The fiscal year (named by its ending year) that contains ``day``."""
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_bounds(fiscal_year: int, *, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of ``fiscal_year``."""
    start = dt.date(fiscal_year if start_month == 1 else fiscal_year - 1, start_month, 1)
    return start, add_months(start, 12) - dt.timedelta(days=1)


def fiscal_year_periods(fiscal_year: int, *, start_month: int) -> list[PeriodBounds]:
    """The year, its four quarters and its twelve months, in that order."""
    start, end = fiscal_year_bounds(fiscal_year, start_month=start_month)
    name = f"FY{fiscal_year}"
    periods = [PeriodBounds("year", name, start, end)]
    for quarter in range(4):
        first = add_months(start, 3 * quarter)
        last = add_months(first, 3) - dt.timedelta(days=1)
        periods.append(PeriodBounds("quarter", f"{name} Q{quarter + 1}", first, last))
    for month in range(12):
        first = add_months(start, month)
        last = add_months(first, 1) - dt.timedelta(days=1)
        periods.append(PeriodBounds("month", first.strftime("%b %Y"), first, last))
    return periods


def fiscal_years_covering(first: dt.date, last: dt.date, *, start_month: int) -> range:
    """Every fiscal year that [first, last] touches."""
    return range(
        fiscal_year_of(first, start_month=start_month),
        fiscal_year_of(last, start_month=start_month) + 1,
    )


def week_start_of(day: dt.date, *, first_weekday: int = 0) -> dt.date:
    """The first day of ``day``'s week; ``first_weekday`` as ``date.weekday()`` (0 Monday,
    6 Sunday)."""
    return day - dt.timedelta(days=(day.weekday() - first_weekday) % 7)
