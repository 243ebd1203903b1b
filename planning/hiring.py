"""Reads of the hiring plan once people are hired: a new hire's ramped quotas, plan vs actual.

A planned hire is filled by ``services.planned_hire_mark_hired``; these reads show what that
writes (the quotas of the periods a hire starts in, ramped by the ramp schedule the learned
curve feeds) and what happened since (planned against actual hire month and headcount, the
hired people's real ramped quotas and bookings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from salesmgmt.models import Period
from territories.models import AttainmentFigure, Quota

from .engine.ramp import RampedQuota, ramped_quota
from .models import PlannedHire

# A new hire's quota is set for the quarter they start in (or today's, hired earlier) and
# the one after: the periods quotas are planned in.
QUOTA_PERIODS = 2
ZERO = Decimal(0)


@dataclass(frozen=True)
class NewHireQuota:
    period: Period
    quota: RampedQuota


def new_hire_periods(*, hired_on: dt.date, today: dt.date | None = None) -> list[Period]:
    """The current (or starting) quarter and the next one (1 query)."""
    day = max(hired_on, today or timezone.localdate())
    return list(
        Period.objects.filter(kind=Period.Kind.QUARTER, end_on__gte=day).order_by("start_on")[
            :QUOTA_PERIODS
        ]
    )


def new_hire_quotas(
    percentages: Sequence[int | float],
    *,
    hired_on: dt.date,
    annual: Decimal,
    periods: list[Period],
) -> list[NewHireQuota]:
    """Each period's quota for someone hired on ``hired_on``: ``annual`` ramped by the ramp
    schedule's ``percentages``."""
    return [
        NewHireQuota(
            period,
            ramped_quota(
                percentages,
                hired_on=hired_on,
                start_on=period.start_on,
                end_on=period.end_on,
                annual=annual,
            ),
        )
        for period in periods
    ]


@dataclass(frozen=True)
class HiredRow:
    """A filled seat: when it was planned, when the person started, what they carry and did."""

    hire: PlannedHire
    delay_months: int  # actual hire month - planned month (negative: early)
    quota: Decimal  # their quotas (ramped) of every quarter, summed
    bookings: Decimal  # their stored attainment bookings of the quarters (as last refreshed)

    @property
    def attainment(self) -> Decimal | None:
        return (self.bookings / self.quota).quantize(Decimal("0.0001")) if self.quota else None


@dataclass(frozen=True)
class PlanVsActual:
    # One row per role, planned month and region: planned people, hired people, open seats.
    headcount: list[dict]
    hired: list[HiredRow]

    @property
    def planned_total(self) -> int:
        return sum(row["planned"] for row in self.headcount)

    @property
    def hired_total(self) -> int:
        return sum(row["hired"] for row in self.headcount)

    @property
    def quota_total(self) -> Decimal:
        return sum((row.quota for row in self.hired), ZERO)

    @property
    def bookings_total(self) -> Decimal:
        return sum((row.bookings for row in self.hired), ZERO)


def plan_vs_actual() -> PlanVsActual:
    """Planned vs hired headcount per role, month and region; each hire's month against the
    plan; the hired people's ramped quotas (their actual capacity) and bookings, summed over
    their quarters (3 queries, whatever the number of hires)."""
    hires = list(PlannedHire.objects.select_related("hired_user"))  # 1
    cells: dict[tuple[str, dt.date, str], dict] = {}
    for hire in hires:
        key = (hire.sales_role, hire.start_month, hire.region)
        cell = cells.setdefault(
            key,
            {
                "sales_role": hire.sales_role,
                "role": hire.get_sales_role_display(),
                "month": hire.start_month,
                "region": hire.region,
                "planned": 0,
                "hired": 0,
            },
        )
        cell["planned"] += hire.headcount
        cell["hired"] += 1 if hire.is_hired else 0
    for cell in cells.values():
        cell["open"] = cell["planned"] - cell["hired"]
    hired = [hire for hire in hires if hire.hired_user_id is not None and hire.hired_on]
    people = [hire.hired_user_id for hire in hired]
    quarters = {"period__kind": Period.Kind.QUARTER}
    quotas = dict(
        Quota.objects.filter(user__in=people, **quarters)  # 2
        .values("user")
        .annotate(total=Sum("amount"))
        .values_list("user", "total")
    )
    bookings = dict(
        AttainmentFigure.objects.filter(user__in=people, **quarters)  # 3
        .values("user")
        .annotate(total=Sum("bookings"))
        .values_list("user", "total")
    )
    rows = [
        HiredRow(
            hire=hire,
            delay_months=(hire.hired_on.year - hire.start_month.year) * 12
            + hire.hired_on.month
            - hire.start_month.month,
            quota=quotas.get(hire.hired_user_id or 0) or ZERO,
            bookings=bookings.get(hire.hired_user_id or 0) or ZERO,
        )
        for hire in hired
        if hire.hired_on is not None
    ]
    headcount = sorted(cells.values(), key=lambda c: (c["month"], c["sales_role"], c["region"]))
    return PlanVsActual(headcount=headcount, hired=rows)
