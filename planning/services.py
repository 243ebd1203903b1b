"""Writes of the sales task and its scenarios: executives and administrators only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Product
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Role, User
from salesmgmt.services import user_create
from salesmgmt.visibility import plans_sales_force
from territories.models import RampSchedule, Territory
from territories.selectors import ramp_percentages
from territories.services import (
    quota_update,
    ramp_schedule_set_default,
    territory_change_owner,
)

from . import hiring, locks, selectors
from .engine.ramp import RampCurve, schedule_percentages
from .models import Coverage, PlannedHire, RoleCapacity, Scenario, Segment

SEGMENT_FIELDS = (
    "priority", "countries", "regions", "states", "industries", "employee_count_min",
    "employee_count_max", "annual_revenue_min", "annual_revenue_max",
)  # fmt: skip
COVERAGE_FIELDS = (
    "activities_per_account", "hours_per_activity", "win_rate", "deal_size", "cycle_days",
)  # fmt: skip
SCENARIO_FIELDS = ("target", "selling_hours", "coverage_factor", "win_rate", "productivity")


def _require_planner(actor: User) -> None:
    if not plans_sales_force(actor):
        raise PermissionDeniedError("Only executives and administrators plan the sales force.")


@transaction.atomic
def segment_create(
    *, actor: User, name: str, products: list[Product] | None = None, **criteria: object
) -> Segment:
    """A segment with its rules (``SEGMENT_FIELDS``) and the products offered to it."""
    _require_planner(actor)
    unknown = set(criteria) - set(SEGMENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown segment fields: {sorted(unknown)}")
    segment = Segment(name=name, **criteria)
    segment.full_clean()
    segment.save()
    if products:
        segment.products.set(products)
    return segment


@transaction.atomic
def segment_update(
    *, actor: User, segment: Segment, products: list[Product] | None = None, **changes: object
) -> Segment:
    """Change a segment's name or rules (``SEGMENT_FIELDS``); ``products`` replaces its offer."""
    _require_planner(actor)
    unknown = set(changes) - {"name", *SEGMENT_FIELDS}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    for name, value in changes.items():
        setattr(segment, name, value)
    segment.full_clean()
    segment.save()
    if products is not None:
        segment.products.set(products)
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    """Delete a segment and its coverage rows. Scenarios name no segment (they override the
    whole plan's inputs), so each simply sizes the segments left: nothing to protect."""
    _require_planner(actor)
    segment.delete()


@transaction.atomic
def coverage_set(
    *,
    actor: User,
    segment: Segment,
    sales_role: str,
    activities_per_account: Decimal,
    hours_per_activity: Decimal | None = None,
    win_rate: Decimal | None = None,
    deal_size: Decimal | None = None,
    cycle_days: int | None = None,
) -> Coverage:
    """How ``sales_role`` covers ``segment`` (created or replaced); None figures: history's,
    and no hours per activity: the role's (``RoleCapacity.hours_per_activity``, else 1)."""
    _require_planner(actor)
    if hours_per_activity is None:
        capacity = RoleCapacity.objects.filter(sales_role=sales_role).first()
        hours_per_activity = capacity.hours_per_activity if capacity else Decimal(1)
    coverage = Coverage.objects.filter(segment=segment, sales_role=sales_role).first()
    coverage = coverage or Coverage(segment=segment, sales_role=sales_role)
    values = {
        "activities_per_account": activities_per_account,
        "hours_per_activity": hours_per_activity,
        "win_rate": win_rate,
        "deal_size": deal_size,
        "cycle_days": cycle_days,
    }
    for name, value in values.items():
        setattr(coverage, name, value)
    coverage.full_clean()
    coverage.save()
    return coverage


@transaction.atomic
def role_capacity_set(
    *,
    actor: User,
    sales_role: str,
    selling_hours: Decimal,
    annual_attrition: Decimal = Decimal(0),
    hours_per_activity: Decimal = Decimal(1),
) -> RoleCapacity:
    """A role's selling hours and attrition a year and the hours one activity of it takes
    (created or replaced)."""
    _require_planner(actor)
    capacity = RoleCapacity.objects.filter(sales_role=sales_role).first()
    capacity = capacity or RoleCapacity(sales_role=sales_role)
    capacity.selling_hours = selling_hours
    capacity.annual_attrition = annual_attrition
    capacity.hours_per_activity = hours_per_activity
    capacity.full_clean()
    capacity.save()
    return capacity


@transaction.atomic
def scenario_create(
    *,
    actor: User,
    name: str,
    target: Decimal,
    selling_hours: Decimal | None = None,
    coverage_factor: Decimal = Decimal(1),
    win_rate: Decimal | None = None,
    productivity: Decimal | None = None,
) -> Scenario:
    """A what-if saved under ``name``: the target and any inputs it overrides."""
    _require_planner(actor)
    scenario = Scenario(
        name=name,
        target=target,
        selling_hours=selling_hours,
        coverage_factor=coverage_factor,
        win_rate=win_rate,
        productivity=productivity,
        created_by=actor,
    )
    scenario.full_clean()
    scenario.save()
    return scenario


@transaction.atomic
def scenario_delete(*, actor: User, scenario: Scenario) -> None:
    _require_planner(actor)
    scenario.delete()


@transaction.atomic
def planned_hire_create(
    *, actor: User, sales_role: str, start_month: dt.date, region: str = "", headcount: int = 1
) -> PlannedHire:
    """Plan ``headcount`` hires of a role from a month (any day of it: its first day kept)."""
    _require_planner(actor)
    hire = PlannedHire(
        sales_role=sales_role,
        start_month=start_month.replace(day=1),
        region=region,
        headcount=headcount,
    )
    hire.full_clean()
    hire.save()
    return hire


@transaction.atomic
def planned_hire_delete(*, actor: User, hire: PlannedHire) -> None:
    _require_planner(actor)
    hire.delete()


def _fill_seat(hire: PlannedHire, *, person: User, hired_on: dt.date) -> PlannedHire:
    """The planned row the person fills: the row itself, or (a row of several people) a new
    row of one split from it."""
    if hire.headcount > 1:
        hire.headcount -= 1
        hire.save(update_fields=["headcount", "updated_at"])
        hire = PlannedHire(
            sales_role=hire.sales_role, start_month=hire.start_month, region=hire.region
        )
    hire.hired_user = person
    hire.hired_on = hired_on
    hire.headcount = 1
    hire.full_clean()
    hire.save()
    return hire


@transaction.atomic
def planned_hire_mark_hired(
    *,
    actor: User,
    hire: PlannedHire,
    first_name: str,
    last_name: str,
    email: str,
    hired_on: dt.date,
    manager: User | None = None,
    territory: Territory | None = None,
    ramped_quota: Decimal | None = None,
) -> PlannedHire:
    """Fill one seat of a planned hire: the person (``user_create``, a rep of the hire's sales
    role and region, hired on ``hired_on``), the territory they take over, and their quotas of
    the quarter they start in and the next, ramped by the default ramp schedule, refreshed
    first from the curve learned from history (``ramp_schedule_learn``).

    ``ramped_quota``: a ramped rep's quota a year (default: history's bookings per ramped
    rep). A planned hire of several people splits: the hired one becomes its own row. A seat
    already filled is refused (400), so a double submit creates nobody.
    """
    _require_planner(actor)
    hire = locks.lock_planned_hire(hire.pk)
    if hire.is_hired:
        raise ValidationError(
            f"This planned hire was already filled by {hire.hired_user} on "
            f"{hire.hired_on:%d %b %Y}."
        )
    curve, past = selectors.learned_ramp()
    ramp_schedule_learn(curve=curve)
    annual = ramped_quota if ramped_quota is not None else past.productivity
    if annual is None or annual <= 0:
        raise ValidationError(
            {"ramped_quota": "History has no bookings per ramped rep yet: give the quota a year."}
        )
    person = user_create(
        actor=actor,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=Role.REP,
        manager=manager,
        sales_role=hire.sales_role,
        region=hire.region,
        hire_date=hired_on,
    )
    hire = _fill_seat(hire, person=person, hired_on=hired_on)
    if territory is not None:
        territory_change_owner(
            actor=actor, territory=territory, owner=person, effective_on=hired_on
        )
    periods = hiring.new_hire_periods(hired_on=hired_on)
    lines = hiring.new_hire_quotas(
        ramp_percentages(), hired_on=hired_on, annual=annual, periods=periods
    )
    for line in lines:
        quota_update(
            actor=actor,
            person=person,
            period=line.period,
            amount=line.quota.amount,
            reason=(
                f"New hire from the plan: ramped quota {line.quota.full_amount} x ramp "
                f"{line.quota.ramp_factor}"
            ),
        )
    return hire


@transaction.atomic
def ramp_schedule_learn(*, curve: RampCurve | None = None) -> RampSchedule | None:
    """Write the ramp learned from history (``curve``, default: learned now) into the default
    ramp schedule, the one home of a new hire's ramp that allocation reads too.

    Without hires with won deals there is nothing learned: the schedule is left as it is
    (the company's own, or 25/50/75/100), rather than replaced by the engine's guess.
    """
    curve = curve if curve is not None else selectors.learned_ramp()[0]
    if not curve.is_learned:
        return None
    return ramp_schedule_set_default(
        percentages=schedule_percentages(curve), name="Learned from history"
    )
