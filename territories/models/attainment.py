"""Precomputed attainment: everyone's subtree bookings and rolled-up quota, per period.

Computing them means rolling up the whole quota tree and converting every deal won in the
period (territories.selectors.attainment), which on a large book is most of a dashboard's
time; the pages read these rows instead and a worker keeps them fresh
(territories.services.attainment says how fresh).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesmgmt.models import BaseModel


class AttainmentPeriod(BaseModel):
    """A period whose figures are stored, and as of when (its stale marks live in
    salesmgmt.StaleMark, kind "attainment"). Its row lock orders two refreshes of the period."""

    period = models.OneToOneField(
        "salesmgmt.Period", on_delete=models.CASCADE, related_name="attainment_state"
    )
    # When the refresh that stored the figures started reading its inputs (the pages' "as
    # of"): a slower refresh that started earlier never overwrites them.
    computed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["period_id"]

    def __str__(self) -> str:
        return f"attainment of period {self.period_id} as of {self.computed_at}"


class AttainmentFigure(BaseModel):
    """One person's attainment inputs for a period (``user`` empty: the whole company).

    Amounts in the reporting currency, in cents like every input they add up (each deal is
    converted to cents, quotas are cents), so a row holds exactly what the live computation
    gives.
    """

    period = models.ForeignKey(
        "salesmgmt.Period", on_delete=models.CASCADE, related_name="attainment_figures"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attainment_figures",
    )
    bookings = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    quota = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    ramped_quota = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    is_explicit = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["period_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "user"],
                condition=Q(user__isnull=False),
                name="attainment_figure_one_per_person",
            ),
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(user__isnull=True),
                name="attainment_figure_one_company_row",
            ),
        ]

    def __str__(self) -> str:
        return f"attainment of {self.user_id or 'the company'} in period {self.period_id}"
