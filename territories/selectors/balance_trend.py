"""The weekly balance monitor's rows as a trend, for the territories page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from salesmgmt.models import User

from ..models import Territory, TerritoryBalanceSnapshot

# Weeks of history the trend shows: a quarter and a bit.
TREND_WEEKS = 13
COLUMNS = [
    "week_start",
    "territory_id",
    "name",
    "balance_index",
    "band",
    "is_flagged",
    "potential_amount",
    "pipeline_amount",
]


@dataclass(frozen=True)
class BalanceTrend:
    """One row per visible territory and recorded week (oldest first), and a per-week
    summary: territories recorded and how many were outside the band."""

    rows: pd.DataFrame
    weeks: list[dict]


def balance_trend(*, viewer: User, weeks: int = TREND_WEEKS) -> BalanceTrend:
    """The last ``weeks`` recorded weeks of the territories ``viewer`` sees.

    Queries: the recorded weeks (1) and their rows of visible territories (1), whatever the
    number of territories or weeks.
    """
    recent = list(
        TerritoryBalanceSnapshot.objects.order_by("-week_start")
        .values_list("week_start", flat=True)
        .distinct()[:weeks]
    )
    if not recent:
        return BalanceTrend(rows=pd.DataFrame(columns=COLUMNS), weeks=[])
    values = (
        TerritoryBalanceSnapshot.objects.filter(
            week_start__in=recent,
            territory__in=Territory.objects.visible_to(viewer).values("pk"),
        )
        .order_by("week_start", "territory__name", "territory_id")
        .values_list(
            "week_start",
            "territory_id",
            "territory__name",
            "balance_index",
            "band",
            "is_flagged",
            "potential_amount",
            "pipeline_amount",
        )
    )
    rows = pd.DataFrame(list(values), columns=COLUMNS)
    summary = rows.groupby("week_start").agg(
        territories=("territory_id", "size"), flagged=("is_flagged", "sum"), band=("band", "max")
    )
    weeks_out = [
        {
            "week_start": week,
            "territories": int(row["territories"]),
            "flagged": int(row["flagged"]),
            "band": row["band"],
        }
        for week, row in summary.sort_index(ascending=False).iterrows()
    ]
    return BalanceTrend(rows=rows, weeks=weeks_out)
