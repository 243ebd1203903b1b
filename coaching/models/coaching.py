"""Coaching records: skills, call debriefs, development plans, skill ratings, resource requests."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesmgmt.models import BaseModel
from salesmgmt.money import money_validators

from .reviews import MAX_RATING

# --- coaching ---------------------------------------------------------------------------------


class SkillTag(BaseModel):
    """The configurable list of selling skills debriefs and ratings refer to."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class CallDebrief(BaseModel):
    """After a joint call: what went well, what to improve; the rep and the manager see it."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activity = models.ForeignKey(
        "accounts.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    held_on = models.DateField()
    went_well = models.TextField()
    to_improve = models.TextField()
    skills = models.ManyToManyField(SkillTag, blank=True, related_name="debriefs")

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["rep", "held_on"], name="debrief_rep_day")]

    def __str__(self) -> str:
        return f"Debrief of {self.rep} on {self.held_on}"


class DevelopmentPlan(BaseModel):
    """Assessed needs → goals → actions with dates → evaluation."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EVALUATED = "evaluated", "Evaluated"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=120)
    assessed_needs = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    evaluation = models.TextField(blank=True)
    evaluated_on = models.DateField(null=True, blank=True)
    # The programme the plan follows: its page shows the enrolment's progress, not a copy.
    enrolment = models.ForeignKey(
        "coaching.Enrolment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="active") | models.Q(evaluated_on__isnull=False),
                name="plan_evaluated_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DevelopmentGoal(BaseModel):
    plan = models.ForeignKey(DevelopmentPlan, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(max_length=255)
    skill = models.ForeignKey(SkillTag, on_delete=models.SET_NULL, null=True, blank=True)
    target_on = models.DateField()

    class Meta:
        ordering = ["plan_id", "target_on", "id"]

    def __str__(self) -> str:
        return self.description


class DevelopmentAction(BaseModel):
    goal = models.ForeignKey(DevelopmentGoal, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=255)
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["goal_id", "due_on", "id"]

    def __str__(self) -> str:
        return self.description


class SkillRating(BaseModel):
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    skill = models.ForeignKey(SkillTag, on_delete=models.CASCADE, related_name="ratings")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATING)]
    )
    rated_on = models.DateField()
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rep_id", "skill_id", "rated_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=MAX_RATING),
                name="skill_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.rating} on {self.rated_on}"


# --- pre-sales resource requests --------------------------------------------------------------


class ResourceKind(models.TextChoices):
    SE_TIME = "se_time", "Sales engineer time"
    DEMO = "demo", "Demo"
    POC = "poc", "Proof of concept"


class ResourcePolicy(BaseModel):
    """The criteria a request must meet to be approved, per kind of resource."""

    kind = models.CharField(max_length=8, choices=ResourceKind.choices, unique=True)
    # Deal amount in the reporting currency.
    min_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=money_validators()
    )
    # The deal's stage order (1 = the first stage of its process).
    min_stage_order = models.PositiveSmallIntegerField(default=1)
    # Qualification score in percent (coaching.selectors.qualification_scores).
    min_qualification = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["kind"]
        verbose_name_plural = "resource policies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} policy"


class ResourceRequest(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="resource_requests"
    )
    kind = models.CharField(max_length=8, choices=ResourceKind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    needed_by = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    # The criteria as they stood at the decision (amount, stage order, qualification, policy).
    criteria_snapshot = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="resource_request_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_by__isnull=False),
                name="resource_request_decided_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.opportunity_id} ({self.status})"
