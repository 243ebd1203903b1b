"""Precomputed planning reports: balance figures, the coverage check, rebalancing proposals.

Each scans every account (against every rule, across every territory, or with its deals and
activities), which takes seconds to tens of seconds on a large book, so the territory page
reads them from here instead of computing them per request. ``PlanningState.generation``
counts committed changes to what they depend on (assignments, rules, territories); a snapshot
remembers the generation it was computed from, so the page can tell a current report from one
being recomputed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesmgmt.models import BaseModel

from .territories import Territory


class PlanningState(BaseModel):
    """The one row counting changes that make the precomputed reports out of date."""

    # Bumped (UPDATE ... SET generation = generation + 1) inside every such change's
    # transaction: the row lock orders the bumps, so a reader never sees a later generation
    # committed before an earlier one.
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"planning generation {self.generation}"


class PlanningSnapshot(BaseModel):
    """One run of the precomputation; the page shows the latest."""

    # PlanningState.generation read before any input: every change up to it is included.
    generation = models.PositiveBigIntegerField()
    effective_on = models.DateField(help_text="The day territories and rules were evaluated.")
    band = models.DecimalField(max_digits=5, decimal_places=4)
    checked_count = models.PositiveIntegerField(default=0)
    gap_count = models.PositiveIntegerField(default=0)
    overlap_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Not a column: set by the planning selectors that read the current generation with it.
    is_current: bool

    class Meta:
        ordering = ["-generation", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"planning snapshot {self.pk} (generation {self.generation})"


class BalanceFigure(BaseModel):
    """One territory's workload and money at a snapshot; the page derives the index from it.

    The balance index depends on which territories are compared (those the viewer sees), so
    only the sums are stored; amounts in the reporting currency, rounded to cents.
    """

    snapshot = models.ForeignKey(
        PlanningSnapshot, on_delete=models.CASCADE, related_name="balance_figures"
    )
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    account_count = models.PositiveIntegerField(default=0)
    potential_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    pipeline_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    bookings_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    activity_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["snapshot_id", "territory_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "territory"], name="balance_figure_one_per_territory"
            ),
        ]

    def __str__(self) -> str:
        return f"territory {self.territory_id} at snapshot {self.snapshot_id}"


class CoverageFinding(BaseModel):
    """An account no active rule matches (a gap), or several match at one priority (overlap)."""

    class Kind(models.TextChoices):
        GAP = "gap", "Gap"
        OVERLAP = "overlap", "Overlap"

    snapshot = models.ForeignKey(
        PlanningSnapshot, on_delete=models.CASCADE, related_name="coverage_findings"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Overlaps whose rules name different territories: the accounts stay where they are.
    is_conflict = models.BooleanField(default=False)
    # The rules at the winning priority as they were: [{id, name, priority, territory_id}].
    rules = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["snapshot_id", "account_id"]
        indexes = [
            models.Index(fields=["snapshot", "kind", "account"], name="coverage_snapshot_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "account"], name="coverage_one_finding_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: account {self.account_id}"


class RebalanceProposal(BaseModel):
    """The rebalancing proposed for one planner's territories at a snapshot.

    ``planner`` empty: every active lowest-level territory (what executives and admins plan);
    otherwise the territories a manager may plan (owned by them or their subtree).
    """

    snapshot = models.ForeignKey(
        PlanningSnapshot, on_delete=models.CASCADE, related_name="proposals"
    )
    planner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The sorted territory ids compared; the page checks they are still the planner's.
    territory_ids = models.JSONField(default=list)
    cv_before = models.FloatField(default=0.0)
    cv_after = models.FloatField(default=0.0)
    is_within_band_after = models.BooleanField(default=True)
    fingerprint = models.CharField(max_length=64)
    move_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["snapshot_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "planner"], name="proposal_one_per_planner"
            ),
            models.UniqueConstraint(
                fields=["snapshot"],
                condition=Q(planner__isnull=True),
                name="proposal_one_company_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"rebalancing for {self.planner or 'everyone'} ({self.move_count} moves)"


class RebalanceMove(BaseModel):
    """One account move of a proposal, in the order the search found it."""

    proposal = models.ForeignKey(RebalanceProposal, on_delete=models.CASCADE, related_name="moves")
    position = models.PositiveIntegerField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    from_territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    to_territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    potential_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))

    class Meta:
        ordering = ["proposal_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "position"], name="move_unique_position"),
            models.UniqueConstraint(fields=["proposal", "account"], name="move_once_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_territory_id} → {self.to_territory_id}"
