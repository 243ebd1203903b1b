"""Two ways to size a sales force, side by side, and the gap to today's headcount.

- Workload: per segment and role, accounts x activities per account a year x hours per
  activity is the role's workload in hours; divided by one person's selling hours a year it
  is the full-time equivalents the coverage model needs; people = FTE rounded up per role.
- Revenue: the company target / the bookings a ramped rep closes a year is the number of
  quota carriers (account executives and account managers) the target needs, rounded up. A
  planned win rate other than history's scales that productivity proportionally (same
  pipeline, more or fewer wins).

Figures are floats inside pandas and rounded to 2 decimals at the edge; people are whole.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

# The roles that carry a bookings quota: the revenue method sizes them together.
QUOTA_ROLES = ("ae", "am")
ROLE_ORDER = ("sdr", "ae", "am", "se")


@dataclass(frozen=True)
class CoverageLine:
    segment: str
    sales_role: str
    accounts: int
    activities_per_account: Decimal
    hours_per_activity: Decimal


@dataclass(frozen=True)
class PlanInputs:
    coverage: tuple[CoverageLine, ...]
    selling_hours: dict[str, Decimal]  # per sales role
    target: Decimal
    productivity: Decimal | None  # bookings a year per ramped rep, from history
    win_rate: Decimal | None  # history's
    headcount: dict[str, int] = field(default_factory=dict)  # today's, per sales role


@dataclass(frozen=True)
class Overrides:
    """A scenario's changes to the plan; None leaves an input as planned."""

    target: Decimal | None = None
    selling_hours: Decimal | None = None
    coverage_factor: Decimal = Decimal(1)
    win_rate: Decimal | None = None
    productivity: Decimal | None = None


@dataclass(frozen=True)
class Sizing:
    workload: pd.DataFrame  # segment, sales_role, accounts, hours, selling_hours, fte
    by_role: pd.DataFrame  # sales_role, fte, people, today, gap (people - today)
    target: float
    productivity: float | None
    revenue_fte: float | None
    revenue_reps: int | None
    quota_carriers_today: int

    @property
    def revenue_gap(self) -> int | None:
        return None if self.revenue_reps is None else self.revenue_reps - self.quota_carriers_today


def _workload(plan: PlanInputs, overrides: Overrides) -> pd.DataFrame:
    columns = ["segment", "sales_role", "accounts", "activities_per_account", "hours_per_activity"]
    frame = pd.DataFrame(
        [[getattr(line, c) for c in columns] for line in plan.coverage], columns=columns
    )
    for name in ("activities_per_account", "hours_per_activity", "accounts"):
        frame[name] = frame[name].astype(float)
    factor = float(overrides.coverage_factor)
    frame["hours"] = (
        frame["accounts"] * frame["activities_per_account"] * factor * (frame["hours_per_activity"])
    )
    hours = {role: float(h) for role, h in plan.selling_hours.items()}
    if overrides.selling_hours is not None:
        hours = dict.fromkeys(ROLE_ORDER, float(overrides.selling_hours))
    frame["selling_hours"] = frame["sales_role"].map(hours).astype(float)
    frame["fte"] = frame["hours"] / frame["selling_hours"]
    return frame


def _by_role(workload: pd.DataFrame, headcount: dict[str, int]) -> pd.DataFrame:
    fte = workload.groupby("sales_role")["fte"].sum().reindex(list(ROLE_ORDER), fill_value=0.0)
    out = pd.DataFrame({"sales_role": fte.index, "fte": fte.to_numpy()})
    out["fte"] = out["fte"].fillna(0.0)
    # A fraction of a person's work is still a person to hire (rounded before the ceiling so
    # float noise like 2.0000000001 does not add one).
    out["people"] = out["fte"].round(6).map(math.ceil).astype(int)
    out["today"] = out["sales_role"].map(lambda role: headcount.get(role, 0)).astype(int)
    out["gap"] = out["people"] - out["today"]
    out["fte"] = out["fte"].round(2)
    return out


def size(plan: PlanInputs, overrides: Overrides | None = None) -> Sizing:
    """Both sizings of ``plan`` with ``overrides`` applied."""
    overrides = overrides or Overrides()
    workload = _workload(plan, overrides)
    target = float(overrides.target if overrides.target is not None else plan.target)
    base = overrides.productivity if overrides.productivity is not None else plan.productivity
    productivity = None if base is None else float(base)
    if productivity is not None and overrides.win_rate is not None and plan.win_rate:
        productivity *= float(overrides.win_rate) / float(plan.win_rate)
    revenue_fte = target / productivity if productivity else None
    carriers = sum(plan.headcount.get(role, 0) for role in QUOTA_ROLES)
    return Sizing(
        workload=workload,
        by_role=_by_role(workload, plan.headcount),
        target=target,
        productivity=None if productivity is None else round(productivity, 2),
        revenue_fte=None if revenue_fte is None else round(revenue_fte, 2),
        revenue_reps=None if revenue_fte is None else math.ceil(round(revenue_fte, 6)),
        quota_carriers_today=carriers,
    )


def ramped_productivity(
    bookings: pd.DataFrame, reps: pd.DataFrame, *, window_start: dt.date, ramp_months: int = 6
) -> float | None:
    """Mean bookings in the window per ramped quota carrier (None without one).

    ``bookings``: owner_id, amount (won in the window). ``reps``: person_id, hire_date (None:
    hired before records began). Ramped: hired at least ``ramp_months`` before the window
    opened; a ramped rep with no bookings counts as zero (they were capacity all the same).
    """
    cutoff = pd.Timestamp(window_start) - pd.DateOffset(months=ramp_months)
    hired = pd.to_datetime(reps["hire_date"])
    ramped = reps.loc[hired.isna() | (hired <= cutoff), "person_id"]
    if ramped.empty:
        return None
    totals = bookings.groupby("owner_id")["amount"].sum().astype(float)
    return round(float(totals.reindex(ramped, fill_value=0.0).mean()), 2)
