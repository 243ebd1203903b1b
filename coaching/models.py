"""Coaching: standardized account reviews, call debriefs, development plans, resource requests.

Account reviews follow the seed best practice "standardized account reviews based on auditable
milestones": the deal-planning records (scorecard, competition, proof, negotiation) belong to
the opportunity and evolve from review to review; ``AccountReview`` is the meeting itself
(date, attendees, notes) with its action items.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesmgmt.models import BaseModel

MAX_RATING = 5


# --- qualification scorecards -----------------------------------------------------------------


class ScorecardTemplate(BaseModel):
    """A set of qualification criteria; one template per sales process can be its default."""

    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    process = models.ForeignKey(
        "accounts.SalesProcess",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scorecard_templates",
    )
    # The fallback for processes without a template of their own.
    is_default = models.BooleanField(default=False)
    is_builtin = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ScorecardCriterion(BaseModel):
    class Area(models.TextChoices):
        FUNCTIONAL = "functional", "Functional needs"
        FINANCIAL = "financial", "Financial requirements"
        POLITICAL = "political", "Political dynamics"
        OTHER = "other", "Other"

    template = models.ForeignKey(
        ScorecardTemplate, on_delete=models.CASCADE, related_name="criteria"
    )
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    area = models.CharField(max_length=12, choices=Area.choices, default=Area.OTHER)
    guidance = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="criterion_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name


class EvidenceState(models.TextChoices):
    """empty → the rep's note → validated by the manager (an edit sends it back to a note)."""

    EMPTY = "empty", "No evidence"
    REP_NOTE = "rep_note", "Rep's note"
    VALIDATED = "validated", "Validated by manager"


class OpportunityScore(BaseModel):
    """The rating of one criterion for one deal; kept across reviews, last touched by ``review``."""

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="qualification_scores"
    )
    criterion = models.ForeignKey(
        ScorecardCriterion, on_delete=models.CASCADE, related_name="scores"
    )
    review = models.ForeignKey(
        "AccountReview", on_delete=models.SET_NULL, null=True, blank=True, related_name="scores"
    )
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(MAX_RATING)]
    )
    note = models.TextField(blank=True)
    evidence_state = models.CharField(
        max_length=10, choices=EvidenceState.choices, default=EvidenceState.EMPTY
    )
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity_id", "criterion__order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "criterion"], name="score_unique_opp_criterion"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__lte=MAX_RATING),
                name="score_rating_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(evidence_state="validated")
                | models.Q(validated_by__isnull=False, validated_at__isnull=False),
                name="score_validated_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion} on {self.opportunity_id}: {self.rating}"


# --- the deal plan: competition, proof, negotiation -------------------------------------------


class CompetitorPosition(BaseModel):
    class Position(models.TextChoices):
        AHEAD = "ahead", "We are ahead"
        EVEN = "even", "Even"
        BEHIND = "behind", "We are behind"

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="competitor_positions"
    )
    competitor = models.CharField(max_length=120)
    area = models.CharField(max_length=120, help_text="Area of competition, e.g. price, reporting")
    position = models.CharField(max_length=8, choices=Position.choices, default=Position.EVEN)
    plan = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["opportunity_id", "competitor", "id"]

    def __str__(self) -> str:
        return f"{self.competitor} / {self.area}"


class ProofResource(BaseModel):
    class Kind(models.TextChoices):
        DEMO = "demo", "Demo"
        POC = "poc", "Proof of concept"
        REFERENCE = "reference", "Reference call"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="proof_resources"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    planned_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["opportunity_id", "planned_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.planned_on}"


class NegotiationItem(BaseModel):
    """A concession we can give and what we ask in return."""

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="negotiation_items"
    )
    concession = models.CharField(max_length=255)
    in_return = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["opportunity_id", "id"]

    def __str__(self) -> str:
        return f"{self.concession} → {self.in_return}"


# --- the review meeting -----------------------------------------------------------------------


class AccountReview(BaseModel):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="reviews"
    )
    template = models.ForeignKey(ScorecardTemplate, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField()
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="account_reviews")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["account", "held_on"], name="review_account_day")]

    def __str__(self) -> str:
        return f"Review of {self.account} on {self.held_on}"


class ActionItem(BaseModel):
    review = models.ForeignKey(AccountReview, on_delete=models.CASCADE, related_name="action_items")
    description = models.CharField(max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items"
    )
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


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
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
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
