"""Reads for the plan: the sales task, history's defaults, today's people, the sizings.

Every figure the page and the API show comes from ``plan_view`` (a fixed number of queries,
whatever the number of segments, accounts or deals).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from accounts.models import Account
from forecasting.analytics.kpis import closed_figures
from forecasting.selectors.frames import closed_deals_frame
from salesmgmt.models import Period, SalesRole, User
from salesmgmt.money import RateTable
from territories.models import CompanyTarget
from territories.rule_engine import RuleSpec, match_accounts
from territories.selectors.territories import facts_of

from .engine import CoverageLine, Overrides, PlanInputs, Sizing, ramped_productivity, size
from .engine.ramp import RampCurve, Seat, capacity_plan, ramp_curve
from .engine.sizing import QUOTA_ROLES
from .models import PLANNED_ROLES, Coverage, PlannedHire, RoleCapacity, Scenario, Segment

ACCOUNT_FACT_FIELDS = (
    "id", "country", "region", "state", "industry", "employee_count", "annual_revenue",
)  # fmt: skip
# A role without its own capacity row: 46 weeks x 40 h x 65 % selling time.
DEFAULT_SELLING_HOURS = Decimal(1200)
HISTORY_DAYS = 365
# The seat start of a quota carrier with no hire date: ramped long before the plan.
LONG_AGO = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class History:
    """The company's trailing year: the defaults of the coverage model and of productivity."""

    win_rate: Decimal | None
    deal_size: Decimal | None
    cycle_days: int | None
    productivity: Decimal | None


@dataclass(frozen=True)
class ScenarioSizing:
    name: str
    scenario: Scenario | None
    sizing: Sizing


@dataclass(frozen=True)
class PlanView:
    segments: list[Segment]
    account_counts: dict[int, int]
    history: History
    target: Decimal
    baseline: Sizing
    scenarios: list[ScenarioSizing]

    @property
    def segment_rows(self) -> list[tuple[Segment, int]]:
        return [(segment, self.account_counts.get(segment.pk, 0)) for segment in self.segments]


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.prefetch_related(
        Prefetch("coverages", queryset=Coverage.objects.order_by("sales_role", "id")), "products"
    )


def role_capacity_list() -> QuerySet[RoleCapacity]:
    return RoleCapacity.objects.all()


def scenario_list() -> QuerySet[Scenario]:
    return Scenario.objects.all()


def segment_spec(segment: Segment) -> RuleSpec:
    """The segment as a rule of the territory engine (its id in the territory's place)."""
    return RuleSpec.build(
        rule_id=segment.pk,
        name=segment.name,
        territory_id=segment.pk,
        priority=segment.priority,
        countries=segment.countries,
        regions=segment.regions,
        states=segment.states,
        industries=segment.industries,
        employee_count_min=segment.employee_count_min,
        employee_count_max=segment.employee_count_max,
        annual_revenue_min=segment.annual_revenue_min,
        annual_revenue_max=segment.annual_revenue_max,
    )


def segment_account_counts(segments: list[Segment]) -> dict[int, int]:
    """Accounts per segment (1 query); an account in two segments counts in the lower priority."""
    rows = Account.objects.values(*ACCOUNT_FACT_FIELDS).order_by("id")
    matches = match_accounts((facts_of(row) for row in rows), [segment_spec(s) for s in segments])
    counts = dict.fromkeys((s.pk for s in segments), 0)
    for match in matches:
        if match.territory_id is not None:
            counts[match.territory_id] += 1
    return counts


def _money(value: float | None) -> Decimal | None:
    if value is None or pd.isna(value):
        return None
    return Decimal(str(round(float(value), 2)))


def history(*, today: dt.date | None = None) -> History:
    """Win rate (count), average won deal, median cycle and ramped productivity (5 queries)."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=HISTORY_DAYS)
    closed = closed_deals_frame(rates=RateTable.load())
    closed = closed[closed["closed_on"].notna()]
    closed = closed[(closed["closed_on"] > start) & (closed["closed_on"] <= today)]
    if closed.empty:
        return History(None, None, None, None)
    # The forecasting KPI definitions, over the whole company as one node.
    closed = closed.assign(
        node_id=0, cycle_days=(closed["closed_at"] - closed["created_at"]).dt.days
    )
    figures = closed_figures(closed).iloc[0]
    reps = pd.DataFrame(
        list(
            User.objects.filter(is_active=True, sales_role__in=["ae", "am"]).values_list(
                "pk", "hire_date"
            )
        ),
        columns=["person_id", "hire_date"],
    )
    won = closed[closed["won"]]
    productivity = ramped_productivity(won, reps, window_start=start)
    cycle = figures["median_cycle_days"]
    return History(
        win_rate=None
        if pd.isna(figures["win_rate_count"])
        else Decimal(str(round(figures["win_rate_count"], 4))),
        deal_size=_money(figures["average_deal_amount"]),
        cycle_days=None if pd.isna(cycle) else int(cycle),
        productivity=_money(productivity),
    )


def headcount() -> dict[str, int]:
    """Active people per sales role today (1 query)."""
    rows = (
        User.objects.filter(is_active=True)
        .exclude(sales_role=SalesRole.NONE)
        .values("sales_role")
        .annotate(n=Count("id"))
    )
    return {row["sales_role"]: row["n"] for row in rows}


def company_target(*, today: dt.date | None = None) -> Decimal:
    """The coming year's bookings target: the company targets of the four quarters from the
    current one (territories' quota planning), 0 when none is set (1 query)."""
    today = today or timezone.localdate()
    total = CompanyTarget.objects.filter(
        period__kind=Period.Kind.QUARTER,
        period__end_on__gte=today,
        period__start_on__lt=today + dt.timedelta(days=HISTORY_DAYS),
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def _inputs(segments: list[Segment], counts: dict[int, int], past: History) -> PlanInputs:
    capacity = dict(RoleCapacity.objects.values_list("sales_role", "selling_hours"))
    coverage = tuple(
        CoverageLine(
            segment=segment.name,
            sales_role=line.sales_role,
            accounts=counts.get(segment.pk, 0),
            activities_per_account=line.activities_per_account,
            hours_per_activity=line.hours_per_activity,
        )
        for segment in segments
        for line in segment.coverages.all()
    )
    return PlanInputs(
        coverage=coverage,
        selling_hours={r: capacity.get(r, DEFAULT_SELLING_HOURS) for r, _ in PLANNED_ROLES},
        target=company_target(),
        productivity=past.productivity,
        win_rate=past.win_rate,
        headcount=headcount(),
    )


def overrides_of(scenario: Scenario) -> Overrides:
    return Overrides(
        target=scenario.target,
        selling_hours=scenario.selling_hours,
        coverage_factor=scenario.coverage_factor,
        win_rate=scenario.win_rate,
        productivity=scenario.productivity,
    )


def plan_view() -> PlanView:
    """The sales task, the baseline's two sizings and each scenario's (fixed query count)."""
    segments = list(segment_list())
    counts = segment_account_counts(segments)
    past = history()
    plan = _inputs(segments, counts, past)
    scenarios = [ScenarioSizing(s.name, s, size(plan, overrides_of(s))) for s in scenario_list()]
    return PlanView(
        segments=segments,
        account_counts=counts,
        history=past,
        target=plan.target,
        baseline=size(plan),
        scenarios=scenarios,
    )


@dataclass(frozen=True)
class CapacityView:
    curve: RampCurve
    hires: list[PlannedHire]
    months: pd.DataFrame  # month, capacity, target, cumulative_*, gap
    productivity: Decimal | None


def planned_hire_list() -> QuerySet[PlannedHire]:
    return PlannedHire.objects.select_related("hired_user")


def _seats(hires: list[PlannedHire]) -> list[Seat]:
    """Today's quota carriers (no hire date: ramped long ago) and the planned ones."""
    attrition = {
        role: float(rate)
        for role, rate in RoleCapacity.objects.values_list("sales_role", "annual_attrition")
    }
    people = User.objects.filter(is_active=True, sales_role__in=QUOTA_ROLES)
    seats = [
        Seat(hire_date or LONG_AGO, attrition.get(role, 0.0))
        for role, hire_date in people.values_list("sales_role", "hire_date")
    ]
    seats += [
        Seat(hire.start_month, attrition.get(hire.sales_role, 0.0), hire.headcount)
        for hire in hires
        if hire.sales_role in QUOTA_ROLES
    ]
    return seats


def learned_ramp(*, today: dt.date | None = None) -> tuple[RampCurve, History]:
    """The ramp learned from the company's hires and the history it was learned against."""
    today = today or timezone.localdate()
    past = history(today=today)
    closed = closed_deals_frame(rates=RateTable.load())
    won = closed[closed["won"] & closed["closed_on"].notna()][["owner_id", "closed_on", "amount"]]
    hired = pd.DataFrame(
        list(
            User.objects.filter(sales_role__in=QUOTA_ROLES, hire_date__isnull=False).values_list(
                "pk", "hire_date"
            )
        ),
        columns=["person_id", "hire_date"],
    )
    productivity = float(past.productivity) if past.productivity else None
    created = closed["created_at"].min()
    records_start = None if pd.isna(created) else created.date()
    curve = ramp_curve(won, hired, productivity=productivity, records_start=records_start)
    return curve, past


def capacity_view(*, today: dt.date | None = None) -> CapacityView:
    """The ramp learned from history and the coming year's ramped capacity by month."""
    today = today or timezone.localdate()
    curve, past = learned_ramp(today=today)
    productivity = float(past.productivity) if past.productivity else None
    hires = list(planned_hire_list())
    months = capacity_plan(
        _seats(hires),
        curve,
        productivity=productivity or 0.0,
        target=float(company_target(today=today)),
        first_month=today.replace(day=1),
    )
    return CapacityView(curve=curve, hires=hires, months=months, productivity=past.productivity)
