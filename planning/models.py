"""The sales task as data: segments, their coverage by sales role, and what-if scenarios.

A segment is a set of rules over account fields, matched by the territory rule engine
(``territories.rule_engine``): the same criteria, the same meaning, one engine. Win rate, deal
size and cycle left empty on a coverage row mean "the company's history" (planning.selectors).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesmgmt.models import BaseModel, SalesRole
from salesmgmt.money import money_validators

PLANNED_ROLES = [choice for choice in SalesRole.choices if choice[0]]
RATE_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]
POSITIVE = [MinValueValidator(Decimal(0))]


class Segment(BaseModel):
    """Accounts sold to alike; rules as a territory's (lists: any entry; ranges: [min, max))."""

    name = models.CharField(max_length=120, unique=True)
    # Lower wins when an account matches several segments (the rule engine's priority).
    priority = models.PositiveIntegerField(default=100)
    countries = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    states = models.JSONField(default=list, blank=True)
    industries = models.JSONField(default=list, blank=True)
    employee_count_min = models.PositiveIntegerField(null=True, blank=True)
    employee_count_max = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue_min = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    annual_revenue_max = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    products = models.ManyToManyField("accounts.Product", blank=True, related_name="segments")

    class Meta:
        ordering = ["priority", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Coverage(BaseModel):
    """How one sales role covers a segment's accounts; empty figures default to history."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="coverages")
    sales_role = models.CharField(max_length=8, choices=PLANNED_ROLES)
    activities_per_account = models.DecimalField(
        max_digits=8, decimal_places=2, validators=POSITIVE, help_text="Calls or meetings a year."
    )
    hours_per_activity = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=POSITIVE
    )
    win_rate = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, validators=RATE_VALIDATORS
    )
    deal_size = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    cycle_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["segment_id", "sales_role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "sales_role"], name="coverage_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.segment} · {self.get_sales_role_display()}"


class RoleCapacity(BaseModel):
    """A sales role's selling hours a year (after admin, travel, training, holidays)."""

    sales_role = models.CharField(max_length=8, choices=PLANNED_ROLES, unique=True)
    selling_hours = models.DecimalField(
        max_digits=7, decimal_places=1, validators=[MinValueValidator(Decimal(1))]
    )
    # What one call or meeting of this role takes (preparation and follow-up included): the
    # hours of a segment's coverage row of the role when it names none.
    hours_per_activity = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=POSITIVE
    )

    # The share of the role's people expected to leave in a year (the hiring plan's attrition).
    annual_attrition = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal(0), validators=RATE_VALIDATORS
    )

    class Meta:
        ordering = ["sales_role"]

    def __str__(self) -> str:
        return f"{self.get_sales_role_display()}: {self.selling_hours} h"


class Scenario(BaseModel):
    """A what-if: the plan's inputs with some overridden; empty means "as planned"."""

    name = models.CharField(max_length=120, unique=True)
    target = models.DecimalField(max_digits=16, decimal_places=2, validators=money_validators())
    selling_hours = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(Decimal(1))],
        help_text="Every role's selling hours a year, instead of each role's own.",
    )  # fmt: skip
    coverage_factor = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00"), validators=POSITIVE,
        help_text="Multiplies every segment's activities per account.",
    )  # fmt: skip
    win_rate = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, validators=RATE_VALIDATORS
    )
    productivity = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators(),
        help_text="Bookings a year per ramped rep, instead of history's.",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PlannedHire(BaseModel):
    """People to hire for a role, starting in a month, in a region."""

    sales_role = models.CharField(max_length=8, choices=PLANNED_ROLES)
    start_month = models.DateField(help_text="The first day of the month they start.")
    region = models.CharField(max_length=80, blank=True)
    headcount = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    # Set when the seat is filled (planning.services.planned_hire_mark_hired): one person per
    # hired row, so a row of several planned people splits off one row per hire.
    hired_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="planned_hire",
    )  # fmt: skip
    hired_on = models.DateField(null=True, blank=True, help_text="The person's start date.")

    class Meta:
        ordering = ["start_month", "sales_role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(headcount__gte=1), name="planned_hire_at_least_one"
            ),
            models.CheckConstraint(
                condition=models.Q(hired_user__isnull=True, hired_on__isnull=True)
                | models.Q(hired_user__isnull=False, hired_on__isnull=False, headcount=1),
                name="planned_hire_hired_is_one_person",
            ),
        ]

    @property
    def is_hired(self) -> bool:
        return self.hired_user_id is not None

    def __str__(self) -> str:
        return f"{self.headcount} {self.get_sales_role_display()} from {self.start_month:%b %Y}"
