"""What people record (append-only audit trails) and the recompute machinery's own rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.forecast_categories import EffectiveCategory
from salesmgmt.models import BaseModel
from salesmgmt.money import MONEY_MAX, money_validators

from ..querysets import ForecastCallQuerySet

# The effective forecast category of a deal: defined with its rule in accounts.
Category = EffectiveCategory


class Scope(models.TextChoices):
    OWN = "own", "Own deals"
    SUBTREE = "subtree", "Team (reporting subtree)"


class CallLayer(models.TextChoices):
    """Who set the figure: the person for themselves, or a manager above them."""

    OWNER = "owner", "Owner's call"
    MANAGER = "manager", "Manager adjustment"


class ForecastCall(BaseModel):
    """One submission of a person's call for a period (commit and best case).

    Every submission is kept (append-only) with the figures it replaced, so each row is its own
    audit record: who (``submitted_by``), when (``submitted_at``), old and new. The call in
    force is the latest row per (person, period, layer); it carries over until a new one.
    An owner's call covers their own deals for a rep and their team (subtree) for a manager.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_calls"
    )
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    layer = models.CharField(max_length=8, choices=CallLayer.choices, default=CallLayer.OWNER)
    commit_amount = models.DecimalField(
        max_digits=16, decimal_places=2, validators=money_validators()
    )
    best_case_amount = models.DecimalField(
        max_digits=16, decimal_places=2, validators=money_validators()
    )
    previous_commit_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    previous_best_case_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(max_length=500, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ForecastCallQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]
        indexes = [
            models.Index(fields=["person", "period", "layer", "submitted_at"], name="call_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commit_amount__gte=0, best_case_amount__gte=0),
                name="call_amounts_not_negative",
            ),
            # The one money range (salesmgmt.money): SQLite would store a 16-digit amount that
            # no page can read back (issue 14, M3).
            models.CheckConstraint(
                condition=models.Q(commit_amount__lte=MONEY_MAX, best_case_amount__lte=MONEY_MAX),
                name="call_amounts_within_money_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period_id} {self.layer}: {self.commit_amount}"


class CallOfRecord(BaseModel):
    """The call frozen by the weekly lock: what each person had called when the week closed."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    locked_on = models.DateField()
    owner_call = models.ForeignKey(
        ForecastCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    commit_amount = models.DecimalField(max_digits=16, decimal_places=2)
    best_case_amount = models.DecimalField(max_digits=16, decimal_places=2)
    manager_commit_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    manager_best_case_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["locked_on", "person_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "locked_on"], name="call_of_record_unique_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period_id} locked {self.locked_on}"


# --- aggregates --------------------------------------------------------------------------------
