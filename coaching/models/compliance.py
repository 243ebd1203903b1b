"""Precomputed documentation compliance: each seller's score and per-check counts.

Computing a team's score reads every open deal, milestone record and recent activity of the
team (coaching.compliance), most of the team dashboard's time on a large book; the dashboard
reads these rows instead and a worker keeps them fresh (coaching.services.compliance says
how fresh). The lists of failing deals stay on the rep's coaching page, computed live.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from salesmgmt.models import BaseModel


class ComplianceSummary(BaseModel):
    """One person's score as of ``as_of`` (stale while a "compliance" StaleMark of theirs is
    pending: salesmgmt.refresh)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_summary"
    )
    # When the refresh that wrote the row started reading its inputs: a slower refresh that
    # started earlier never overwrites it.
    computed_at = models.DateTimeField()
    as_of = models.DateField()
    open_deal_count = models.PositiveIntegerField(default=0)
    passing_count = models.PositiveIntegerField(default=0)
    # Open deals failing each check (coaching.compliance.Check); a deal can fail several.
    failing_next_step = models.PositiveIntegerField(default=0)
    failing_evidence = models.PositiveIntegerField(default=0)
    failing_recent_activity = models.PositiveIntegerField(default=0)
    failing_close_date = models.PositiveIntegerField(default=0)
    missing_evidence_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(passing_count__lte=F("open_deal_count")),
                name="compliance_summary_passing_within_open",
            ),
        ]

    def __str__(self) -> str:
        return f"compliance of {self.user_id} as of {self.as_of}"

    @property
    def score(self) -> Decimal:
        """Passing share as a fraction (1 = 100 %), exactly as ComplianceScore.score."""
        if not self.open_deal_count:
            return Decimal(1)
        return Decimal(self.passing_count) / Decimal(self.open_deal_count)
