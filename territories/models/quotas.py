"""Quotas with their terms and audit log, company targets and ramp schedules."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from salesmgmt.models import BaseModel
from salesmgmt.money import MONEY_MAX, money_validators, share_validators

from ..querysets import QuotaQuerySet
from .territories import Territory


class RampSchedule(BaseModel):
    """Quota percentages by month of tenure for new hires; the last one applies thereafter."""

    name = models.CharField(max_length=80, unique=True)
    monthly_percentages = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="ramp_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.monthly_percentages}"

    def clean(self) -> None:
        super().clean()
        steps = self.monthly_percentages
        if (
            not isinstance(steps, list)
            or not steps
            or not all(isinstance(s, int | float) and 0 <= s <= 100 for s in steps)
        ):
            raise ValidationError(
                {"monthly_percentages": "Give a list of percentages between 0 and 100."}
            )


class CompanyTarget(BaseModel):
    """The company's bookings target for a period and how it was split over territories."""

    class Method(models.TextChoices):
        HISTORICAL = "historical", "Historical share of bookings"
        POTENTIAL = "potential", "Territory potential"
        EVEN = "even", "Evenly"

    period = models.OneToOneField(
        "salesmgmt.Period", on_delete=models.PROTECT, related_name="company_target"
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2, validators=money_validators())
    method = models.CharField(max_length=16, choices=Method.choices)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    allocated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period__start_on"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="company_target_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: {self.amount}"


class Quota(BaseModel):
    """One person's quota for one period, with every term of the formula kept.

    ``components``: amount = territory_quota * assignment_share * ramp_factor + adjustment
    (the product rounded to cents first). ``explicit``: amount typed in directly.
    ``derived``: the row only carries history; the quota is the sum of the person's subtree.
    A person with no row is derived too.
    """

    class Basis(models.TextChoices):
        COMPONENTS = "components", "Territory quota × share × ramp + adjustment"  # noqa: RUF001
        EXPLICIT = "explicit", "Set explicitly"
        DERIVED = "derived", "Sum of the team"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotas"
    )
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.PROTECT, related_name="quotas")
    territory = models.ForeignKey(
        Territory, on_delete=models.SET_NULL, null=True, blank=True, related_name="quotas"
    )
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.COMPONENTS)
    territory_quota = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal(0), validators=money_validators()
    )
    assignment_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal(1), validators=share_validators()
    )
    ramp_factor = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal(1), validators=share_validators()
    )
    # A signed delta on top of the formula: the one money range, negative allowed.
    manager_adjustment = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=Decimal(0),
        validators=money_validators(signed=True),
    )
    # The quota attainment is measured against (ramped); kept in step by the services.
    amount = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal(0), validators=money_validators()
    )
    # Optimistic locking for edits from the planning page and the API.
    version = models.PositiveIntegerField(default=1)

    objects = QuotaQuerySet.as_manager()

    class Meta:
        ordering = ["period_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period"], name="quota_unique_user_period"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    amount__lte=MONEY_MAX,
                    territory_quota__gte=0,
                    territory_quota__lte=MONEY_MAX,
                    manager_adjustment__gte=-MONEY_MAX,
                    manager_adjustment__lte=MONEY_MAX,
                ),
                name="quota_within_money_range",
            ),
            models.CheckConstraint(
                condition=Q(assignment_share__gte=0, assignment_share__lte=1),
                name="quota_share_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(ramp_factor__gte=0, ramp_factor__lte=1),
                name="quota_ramp_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.period}: {self.amount}"


class QuotaChange(models.Model):
    """Append-only audit of quota edits: who, when, which term, old and new value, why."""

    class Source(models.TextChoices):
        EDIT = "edit", "Edit"
        ALLOCATION = "allocation", "Allocation"
        ADMIN = "admin", "Admin"

    quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="changes")
    field = models.CharField(max_length=24)
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.EDIT)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["quota", "changed_at"], name="quota_change_quota_at")]

    def __str__(self) -> str:
        return f"{self.quota_id} {self.field}: {self.old_value} → {self.new_value}"
