"""Standardized account reviews: scorecards with evidence states, the deal plan, the meeting.

The deal-planning records (scorecard, competition, proof, negotiation) belong to the
opportunity and evolve from review to review; ``AccountReview`` is the meeting itself
(date, attendees, notes) with its action items.
"""

from __future__ import annotations

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


class ReviewNotesRevision(BaseModel):
    """The notes a review had before one edit: who replaced them, when (``created_at``)."""

    review = models.ForeignKey(
        AccountReview, on_delete=models.CASCADE, related_name="notes_revisions"
    )
    previous_notes = models.TextField(blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Notes of {self.review} before {self.edited_by}'s edit"


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
