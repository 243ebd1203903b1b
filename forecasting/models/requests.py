"""Pending KPI recomputes: the slow follow-up of the incremental rollups, coalesced harder.

A finished rollup batch asks for its people's KPI rows; pending rows are unique per person and
period, and one task claims all of them at most every ``FORECASTING_KPI_DEBOUNCE_SECONDS``
(``services.requests``), so a burst of writes costs one KPI computation per window.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class KpiRequest(models.Model):
    """A person+period whose KPI rows are stale; pending rows coalesce (one per node)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["started_at", "finished_at"], name="kpi_request_state")]
        constraints = [
            # Coalescing: at most one not-yet-started request per node and period.
            models.UniqueConstraint(
                fields=["person", "period"],
                condition=models.Q(started_at__isnull=True),
                name="kpi_request_one_pending_per_node",
            ),
        ]

    def __str__(self) -> str:
        return f"kpis {self.person_id}/{self.period_id}"
