"""Onboarding and development programmes: an ordered curriculum, enrolments, completed steps.

Practice steps are never stored as done: they read the rep's own milestone completions on their
deals (accounts.MilestoneCompletion), so there is one home for that fact.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from salesmgmt.models import BaseModel, SalesRole

from .coaching import CallDebrief


class Programme(BaseModel):
    """An ordered curriculum for new hires (or anyone developing): modules, certifications,
    practice milestones on real deals."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Whom it is for: new reps with this sales role (blank: any sales role).
    sales_role = models.CharField(max_length=8, choices=SalesRole.choices, blank=True)
    # New hires of the role are enrolled in the default programme automatically.
    is_default = models.BooleanField(default=False)
    # Reps hired before this day are the "before" group of the programme's effect.
    launched_on = models.DateField(default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sales_role"],
                condition=Q(is_default=True),
                name="programme_one_default_per_role",
                violation_error_message="Another programme is already the default for this role.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeStep(BaseModel):
    class Kind(models.TextChoices):
        MODULE = "module", "Module"
        CERTIFICATION = "certification", "Certification"
        PRACTICE = "practice", "Practice milestone"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    # Due this many days after the enrolment starts; past it and not done, the step is overdue.
    due_after_days = models.PositiveSmallIntegerField(default=30)
    # Practice steps: the milestone the rep completes on one of their own deals.
    milestone = models.ForeignKey(
        "accounts.Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["programme_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "order"], name="programme_step_order"),
            models.CheckConstraint(
                condition=(Q(kind="practice") & Q(milestone__isnull=False))
                | (~Q(kind="practice") & Q(milestone__isnull=True)),
                name="programme_step_milestone_iff_practice",
                violation_error_message="A practice step names a milestone; other steps do not.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Enrolment(BaseModel):
    """A rep following a programme from ``started_on`` (their start date when automatic)."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    started_on = models.DateField()
    # Empty when enrolled automatically at hiring.
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "rep"],
                name="enrolment_once_per_programme",
                violation_error_message="This person is already enrolled in the programme.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep} in {self.programme}"

    @property
    def is_automatic(self) -> bool:
        return self.enrolled_by_id is None


class StepCompletion(BaseModel):
    """A module marked done or a certification checked off (with evidence)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="completions")
    step = models.ForeignKey(ProgrammeStep, on_delete=models.CASCADE, related_name="+")
    completed_on = models.DateField()
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A certification's evidence: a debrief of a call, a note, or both.
    debrief = models.ForeignKey(
        CallDebrief, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["enrolment_id", "completed_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "step"],
                name="step_completed_once",
                violation_error_message="This step is already done.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} done on {self.completed_on}"
