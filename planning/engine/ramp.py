"""The ramp learned from history and the year's ramped capacity against the target.

Ramp milestones per rep hired in the records (months counted from the hire month):
- first deal: the first month with a won deal;
- 50 % / 100 %: the first month whose bookings, averaged over it and the two before, reach
  half / all of a ramped rep's monthly productivity.
The curve is the median of each milestone (by cohort = quarter of hire, and overall):
0 before the first deal, linear to 50 % at the half month, then to 100 % at the full month.

Capacity in month m = for each person (today's and each planned hire from their start),
productivity / 12 x ramp(tenure in months) x survival, survival = (1 - attrition)^(m / 12).

A new hire's ramp has one home: the default ``territories`` RampSchedule (monthly
percentages, the hire month first), which allocation and quota terms read too. The learned
curve feeds it (``schedule_percentages``, written by ``services.ramp_schedule_learn``), and a
hired person's quota for a period is that schedule applied to a ramped rep's quota
(``ramped_quota``), so the hire flow and allocation give the same factor for a month.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from territories.quota_rules import month_factor, tenure_month

FACTOR = Decimal("0.0001")
CENT = Decimal("0.01")
# Without history to learn from: a first deal in month 2, half in month 4, ramped in 6.
DEFAULT_RAMP = (2.0, 4.0, 6.0)


@dataclass(frozen=True)
class RampCurve:
    first_deal: float
    half: float
    full: float
    cohorts: pd.DataFrame  # cohort, reps, first_deal, half, full (medians, months)

    @property
    def is_learned(self) -> bool:
        """False for the default curve (no hires with won deals to learn from)."""
        return not self.cohorts.empty

    def factor(self, months: float) -> float:
        """The share of ramped productivity after ``months`` in the seat."""
        if months < self.first_deal:
            return 0.0
        points_x = [self.first_deal, max(self.half, self.first_deal), max(self.full, self.half)]
        return float(np.interp(months, points_x, [0.0, 0.5, 1.0]))


def _month_index(days: pd.Series, start: pd.Series) -> pd.Series:
    days, start = pd.to_datetime(days), pd.to_datetime(start)
    return (days.dt.year - start.dt.year) * 12 + (days.dt.month - start.dt.month)


def _milestones(won: pd.DataFrame, hires: pd.DataFrame, monthly: float) -> pd.DataFrame:
    """Per hired rep: months to first deal, to 50 % and to 100 % (NaN: not yet)."""
    deals = won.merge(hires, left_on="owner_id", right_on="person_id")
    deals = deals.assign(month=_month_index(deals["closed_on"], deals["hire_date"]))
    deals = deals[deals["month"] >= 0]
    rows = []
    for person_id, group in deals.groupby("person_id"):
        by_month = group.groupby("month")["amount"].sum()
        by_month = by_month.reindex(range(int(by_month.index.max()) + 1), fill_value=0.0)
        rolling = by_month.rolling(3, min_periods=1).mean()
        half = rolling.index[rolling >= monthly / 2]
        full = rolling.index[rolling >= monthly]
        rows.append(
            {
                "person_id": person_id,
                "first_deal": float(by_month.index[by_month > 0][0]),
                "half": float(half[0]) if len(half) else np.nan,
                "full": float(full[0]) if len(full) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["person_id", "first_deal", "half", "full"])


def ramp_curve(
    won: pd.DataFrame,
    hires: pd.DataFrame,
    *,
    productivity: float | None,
    records_start: dt.date | None = None,
) -> RampCurve:
    """The ramp of ``hires`` (person_id, hire_date) from their ``won`` deals (owner_id,
    closed_on, amount), against ``productivity`` a year; the default curve without data.
    ``records_start``: the first day deals were recorded (earlier hires are left out)."""
    hires = hires.dropna(subset=["hire_date"])
    if records_start is not None:
        # Someone hired before the records began would seem to ramp for as long as the
        # records are missing: only people hired since then count.
        hires = hires[pd.to_datetime(hires["hire_date"]) >= pd.Timestamp(records_start)]
    columns = ["cohort", "reps", "first_deal", "half", "full"]
    if not productivity or hires.empty or won.empty:
        return RampCurve(*DEFAULT_RAMP, cohorts=pd.DataFrame(columns=columns))
    reached = _milestones(won, hires, productivity / 12)
    if reached.empty:
        return RampCurve(*DEFAULT_RAMP, cohorts=pd.DataFrame(columns=columns))
    hired = pd.to_datetime(hires.set_index("person_id")["hire_date"])
    reached["cohort"] = reached["person_id"].map(hired).dt.to_period("Q").astype(str)
    cohorts = (
        reached.groupby("cohort")
        .agg(
            reps=("person_id", "size"),
            first_deal=("first_deal", "median"),
            half=("half", "median"),
            full=("full", "median"),
        )
        .reset_index()
    )
    medians = reached[["first_deal", "half", "full"]].median()
    default = dict(zip(("first_deal", "half", "full"), DEFAULT_RAMP, strict=True))
    values = {k: float(v) if pd.notna(v) else default[k] for k, v in medians.items()}
    # Medians over different reps need not be ordered; a ramp is (50 % never before the first deal).
    half = max(values["half"], values["first_deal"])
    return RampCurve(values["first_deal"], half, max(values["full"], half), cohorts=cohorts)


@dataclass(frozen=True)
class Seat:
    """One quota carrier: in the seat since ``start`` (a month's first day)."""

    start: dt.date
    attrition: float  # a year
    count: int = 1


def capacity_plan(
    seats: list[Seat],
    curve: RampCurve,
    *,
    productivity: float,
    target: float,
    first_month: dt.date,
    months: int = 12,
) -> pd.DataFrame:
    """Month by month: ramped capacity, target, both cumulative, and the gap (capacity -
    target, cumulative). ``target`` is the year's, spread evenly over the months."""
    out = []
    for m in range(months):
        month = (pd.Timestamp(first_month) + pd.DateOffset(months=m)).date()
        capacity = 0.0
        for seat in seats:
            tenure = (month.year - seat.start.year) * 12 + (month.month - seat.start.month)
            if tenure < 0:
                continue
            survival = (1.0 - seat.attrition) ** (m / 12)
            capacity += seat.count * productivity / 12 * curve.factor(tenure) * survival
        out.append({"month": month, "capacity": capacity, "target": target / months})
    frame = pd.DataFrame(out, columns=["month", "capacity", "target"])
    frame["cumulative_capacity"] = frame["capacity"].cumsum()
    frame["cumulative_target"] = frame["target"].cumsum()
    frame["gap"] = frame["cumulative_capacity"] - frame["cumulative_target"]
    return frame.round({c: 2 for c in frame.columns if c != "month"})


def schedule_percentages(curve: RampCurve) -> list[int | float]:
    """``curve`` as a ramp schedule: the percentage of each month of tenure (the hire month
    first) until it reaches 100, which then applies. Each factor to four decimals
    (ROUND_HALF_UP), so a percentage has at most two.

    Example, the default curve (first deal 2, half 4, full 6): 0, 0, 0, 25, 50, 75, 100.
    """
    percentages: list[int | float] = []
    for months in range(math.ceil(curve.full) + 1):
        share = Decimal(str(curve.factor(months))).quantize(FACTOR, ROUND_HALF_UP) * 100
        percentages.append(int(share) if share == share.to_integral_value() else float(share))
    return percentages


@dataclass(frozen=True)
class RampedQuota:
    """A new hire's quota for one period: the ramped (full) quota scaled by the ramp."""

    factors: tuple[Decimal, ...]  # each calendar month of the period, in order
    full_amount: Decimal  # the ramped quota of the period: annual / 12 x its months
    amount: Decimal

    @property
    def ramp_factor(self) -> Decimal:
        """The period's mean monthly factor, to four decimals."""
        return (sum(self.factors, Decimal(0)) / len(self.factors)).quantize(FACTOR, ROUND_HALF_UP)


def ramped_quota(
    percentages: Sequence[int | float],
    *,
    hired_on: dt.date,
    start_on: dt.date,
    end_on: dt.date,
    annual: Decimal,
) -> RampedQuota:
    """``annual`` (a ramped rep's quota a year) over the period's calendar months, each scaled
    by the ramp schedule's ``percentages`` at the hire's tenure that month (the hire month
    first; months before the hire count 0), as ``territories.quota_rules`` reads them for
    allocation. The amount to the cent (ROUND_HALF_UP).

    Example, 25/50/75/100, hired 10 Jan, annual 120 000, Q1 (Jan, Feb, Mar):
    0.25 + 0.5 + 0.75 = 1.5 months' worth of 10 000 → 15 000.
    """
    factors = []
    month = start_on.replace(day=1)
    while month <= end_on:
        factors.append(month_factor(tenure_month(hired_on, month), percentages))
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    monthly = annual / 12
    full = (monthly * len(factors)).quantize(CENT, ROUND_HALF_UP)
    amount = (monthly * sum(factors, Decimal(0))).quantize(CENT, ROUND_HALF_UP)
    return RampedQuota(factors=tuple(factors), full_amount=full, amount=amount)
