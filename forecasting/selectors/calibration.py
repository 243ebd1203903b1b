"""The calibration page's reads: predicted vs actual buckets and the Brier score over time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db.models import Case, Count, F, FloatField, Sum, Value, When

from accounts.models import Opportunity
from salesmgmt.models import Period

from ..analytics import probability
from ..models import OpportunitySnapshot

# Quarters of closes the Brier trend looks back over (the snapshots of older deals are many
# and say little about the model in use now).
BRIER_QUARTERS = 8


def _quarters(*, today: dt.date) -> pd.DataFrame:
    rows = (
        Period.objects.filter(kind=Period.Kind.QUARTER, start_on__lte=today)
        .order_by("-start_on")
        .values_list("pk", "name", "start_on", "end_on")[:BRIER_QUARTERS]
    )
    frame = pd.DataFrame(list(rows), columns=["period_id", "name", "start_on", "end_on"])
    return frame.iloc[::-1].reset_index(drop=True)


def brier_trend(*, today: dt.date) -> pd.DataFrame:
    """The Brier score of the weekly snapshots' probabilities of the deals closed in each
    of the last ``BRIER_QUARTERS`` quarters, against their outcome (analytics.probability.
    brier_by_period). Every prediction counts once: snapshots taken while the deal was open.

    Queries: the quarters (1) and one aggregate over the snapshots, grouped by close day (1).
    """
    quarters = _quarters(today=today)
    if quarters.empty:
        return probability.brier_by_period(pd.DataFrame(), quarters)
    won = Case(
        When(opportunity__status=Opportunity.Status.WON, then=Value(1.0)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    error = F("probability") - won
    daily = (
        OpportunitySnapshot.objects.filter(
            probability__isnull=False,
            opportunity__status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
            opportunity__closed_on__gte=quarters["start_on"].iloc[0],
            opportunity__closed_on__lte=quarters["end_on"].iloc[-1],
            taken_on__lte=F("opportunity__closed_on"),
        )
        .order_by()
        .values("opportunity__closed_on")
        .annotate(
            squared_error=Sum(error * error, output_field=FloatField()),
            looks=Count("id"),
            deals=Count("opportunity_id", distinct=True),
        )
        .values_list("opportunity__closed_on", "squared_error", "looks", "deals")
    )
    frame = pd.DataFrame(list(daily), columns=["closed_on", "squared_error", "looks", "deals"])
    return probability.brier_by_period(frame, quarters)


@dataclass(frozen=True)
class BrierSummary:
    overall: float | None  # over every look of the trend's quarters
    latest: float | None  # the latest quarter with looks
    change: float | None  # the latest minus the quarter before it (negative: better)
    trend: pd.DataFrame

    @property
    def rows(self) -> list[dict]:
        """The trend's rows, the first quarter's change None (not NaN)."""
        return [
            {**row, "change": None if pd.isna(row["change"]) else float(row["change"])}
            for row in self.trend.to_dict("records")
        ]


def brier_summary(*, today: dt.date) -> BrierSummary:
    """``brier_trend`` with its overall score and latest change (2 queries)."""
    trend = brier_trend(today=today)
    last = trend.iloc[-1] if len(trend) else None
    change = None if last is None or pd.isna(last["change"]) else float(last["change"])
    return BrierSummary(
        overall=probability.overall_brier(trend),
        latest=None if last is None else float(last["brier"]),
        change=change,
        trend=trend,
    )
