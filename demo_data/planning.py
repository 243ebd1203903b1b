"""The demo's sales task: two segments with their coverage, role capacities and a what-if,
so the Plan page shows figures from the first ``make run`` (a few rows: fast)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import Product
from planning import selectors, services
from planning.models import Scenario, Segment
from salesmgmt.models import Role

from .org import demo_users

# Segment: (priority, employees [min, max), {role: (activities per account a year, hours)}).
DEMO_SEGMENTS = {
    "Enterprise": (10, (2000, None), {"ae": (24, 2), "am": (12, "1.5"), "se": (6, 3)}),
    "Mid-market": (20, (200, 2000), {"ae": (8, "1.5"), "sdr": (12, "0.5")}),
}
# Selling hours a year (46 weeks x 40 h less admin, travel and training) and attrition.
DEMO_CAPACITY = {
    "ae": (1200, "0.15"),
    "am": (1300, "0.10"),
    "sdr": (1400, "0.30"),
    "se": (1100, "0.10"),
}


def load_demo_sales_task() -> bool:
    """Create the demo's sales task unless its segments exist; True when created."""
    if Segment.objects.filter(name__in=DEMO_SEGMENTS).exists():
        return False
    planner = demo_users().filter(role=Role.EXECUTIVE).order_by("pk").first()
    if planner is None:
        return False
    products = list(Product.objects.order_by("-list_price", "pk")[:4])
    for index, (name, (priority, (low, high), coverage)) in enumerate(DEMO_SEGMENTS.items()):
        segment = services.segment_create(
            actor=planner,
            name=name,
            priority=priority,
            employee_count_min=low,
            employee_count_max=high,
            products=products[index * 2 : index * 2 + 2],
        )
        for role, (activities, hours) in coverage.items():
            services.coverage_set(
                actor=planner,
                segment=segment,
                sales_role=role,
                activities_per_account=Decimal(activities),
                hours_per_activity=Decimal(hours),
            )
    for role, (hours, attrition) in DEMO_CAPACITY.items():
        services.role_capacity_set(
            actor=planner,
            sales_role=role,
            selling_hours=Decimal(hours),
            annual_attrition=Decimal(attrition),
        )
    # Two account executives starting in two months' time, in the first demo region.
    start = timezone.localdate().replace(day=1) + dt.timedelta(days=62)
    region = demo_users().exclude(region="").values_list("region", flat=True).first() or ""
    services.planned_hire_create(
        actor=planner, sales_role="ae", start_month=start, region=region, headcount=2
    )
    if not Scenario.objects.filter(name="Target +20 %").exists():
        target = selectors.company_target() or Decimal(10_000_000)
        services.scenario_create(
            actor=planner,
            name="Target +20 %",
            target=(target * Decimal("1.2")).quantize(Decimal("0.01")),
        )
    return True
