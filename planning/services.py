"""Writes of the sales task and its scenarios: executives and administrators only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from accounts.models import Product
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import User
from salesmgmt.visibility import plans_sales_force

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
def coverage_set(
    *,
    actor: User,
    segment: Segment,
    sales_role: str,
    activities_per_account: Decimal,
    hours_per_activity: Decimal = Decimal(1),
    win_rate: Decimal | None = None,
    deal_size: Decimal | None = None,
    cycle_days: int | None = None,
) -> Coverage:
    """How ``sales_role`` covers ``segment`` (created or replaced); None figures: history's."""
    _require_planner(actor)
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
) -> RoleCapacity:
    """A role's selling hours and attrition a year (created or replaced)."""
    _require_planner(actor)
    capacity = RoleCapacity.objects.filter(sales_role=sales_role).first()
    capacity = capacity or RoleCapacity(sales_role=sales_role)
    capacity.selling_hours = selling_hours
    capacity.annual_attrition = annual_attrition
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
