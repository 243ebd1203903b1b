"""Effective-dated account assignments, the runs that made them, and balance snapshots."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesmgmt.models import BaseModel

from ..querysets import AccountTerritoryAssignmentQuerySet
from .dates import ends_after_start
from .territories import AssignmentRule, Territory


class AssignmentRun(BaseModel):
    """One applied batch of account moves (rules, a rebalancing, or a manual move)."""

    class Kind(models.TextChoices):
        RULES = "rules", "Assignment rules"
        REBALANCE = "rebalance", "Rebalancing"
        MANUAL = "manual", "Manual move"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    effective_on = models.DateField()
    move_open_opportunities = models.BooleanField(default=False)
    moved_count = models.PositiveIntegerField(default=0)
    opportunities_moved_count = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.effective_on} ({self.moved_count} moves)"


class AccountTerritoryAssignment(BaseModel):
    """Which territory an account belonged to when; bookings follow the row in effect.

    A won deal is credited to the territory whose assignment covers its ``closed_on``, so
    moving an account never takes past bookings away from the old territory.
    """

    class Source(models.TextChoices):
        RULE = "rule", "Rule"
        REBALANCE = "rebalance", "Rebalancing"
        MANUAL = "manual", "Manual"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="territory_assignments"
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="account_assignments"
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    rule = models.ForeignKey(
        AssignmentRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        AssignmentRun, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = AccountTerritoryAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["account_id", "effective_from", "id"]
        indexes = [
            models.Index(fields=["territory", "effective_to"], name="assignment_territory_to"),
            models.Index(fields=["account", "effective_from"], name="assignment_account_from"),
        ]
        constraints = [
            ends_after_start("assignment_ends_after_start"),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(effective_to__isnull=True),
                name="assignment_one_open_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.territory} from {self.effective_from}"

    @property
    def is_pinned(self) -> bool:
        """Rebalanced or hand-made moves are kept when the rules run again (unless forced)."""
        return self.source in (self.Source.REBALANCE, self.Source.MANUAL)


class TerritoryBalanceSnapshot(BaseModel):
    """A territory's balance in one week; the weekly monitor writes one row per territory."""

    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="balance_snapshots"
    )
    week_start = models.DateField(
        help_text="The first day of the week (Monday or Sunday: the company's week start)."
    )
    account_count = models.PositiveIntegerField(default=0)
    potential_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    pipeline_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    bookings_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    activity_count = models.PositiveIntegerField(default=0)
    # The territory's potential ÷ the mean potential of all territories that week.
    balance_index = models.DecimalField(max_digits=10, decimal_places=4)
    band = models.DecimalField(max_digits=5, decimal_places=4)
    is_flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-week_start", "territory_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "week_start"], name="balance_snapshot_unique_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory} week of {self.week_start}: {self.balance_index}"
