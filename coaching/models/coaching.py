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
    # The manager's own time: booked against their weekly capacity when approved.
    JOINT_CALL = "joint", "Joint call with the manager"
    REVIEW = "review", "Deal review with the manager"


# The kinds that take the manager's time (coaching.capacity): approving one books hours.
MANAGER_KINDS = frozenset({ResourceKind.JOINT_CALL, ResourceKind.REVIEW})


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
    # For the manager's kinds: the hours of the manager's week an approved request books
    # (empty: the default, settings.MANAGER_REQUEST_HOURS). Ignored for other kinds.
    manager_hours = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(168))],
    )  # fmt: skip

    class Meta:
        ordering = ["kind"]
        verbose_name_plural = "resource policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(manager_hours__isnull=True)
                | models.Q(manager_hours__gte=0, manager_hours__lte=168),
                name="resource_policy_manager_hours_range",
            )
        ]

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
    # An approved joint call or review: whose week it books, which week (its Monday) and how
    # many hours (coaching.capacity). Empty for other kinds and undecided or declined requests.
    booked_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    booked_week = models.DateField(null=True, blank=True)
    booked_hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Approved although it took the manager past their week's capacity (said so explicitly).
    is_over_capacity = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="resource_request_status"),
            models.Index(fields=["booked_manager", "booked_week"], name="resource_request_booked"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_by__isnull=False),
                name="resource_request_decided_has_who",
            ),
            # A booking is whole (manager, week and hours) and only on an approved request.
            models.CheckConstraint(
                condition=models.Q(
                    booked_manager__isnull=True,
                    booked_week__isnull=True,
                    booked_hours__isnull=True,
                )
                | models.Q(
                    status="approved",
                    booked_manager__isnull=False,
                    booked_week__isnull=False,
                    booked_hours__gte=0,
                ),
                name="resource_request_booking_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.opportunity_id} ({self.status})"


class ManagerCapacity(BaseModel):
    """A manager's own weekly hours for joint calls and reviews, instead of the default
    (settings.MANAGER_WEEKLY_CAPACITY_HOURS)."""

    manager = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    weekly_hours = models.DecimalField(
        max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(168))],
    )  # fmt: skip

    class Meta:
        ordering = ["manager_id"]
        verbose_name_plural = "manager capacities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_hours__gte=0, weekly_hours__lte=168),
                name="manager_capacity_hours_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager_id}: {self.weekly_hours} h a week"
