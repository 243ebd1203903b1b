"""pandas only: coaching figures from precomputed KPI rows (no ORM, testable without a DB).

The KPI rows come from forecasting (``KpiSnapshot``, own scope): ``stage_conversion`` and
``days_in_stage`` are dicts keyed by stage order (see forecasting.analytics.kpis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COMPARISON_COLUMNS = [
    "rep_conversion",
    "team_conversion",
    "conversion_gap",
    "rep_days",
    "team_days",
    "days_gap",
]


def _per_stage(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """person_id and stage order → the mean over the person's periods of ``column``'s values."""
    records = [
        {"person_id": person_id, "stage_order": int(order), "value": value}
        for person_id, values in zip(rows["person_id"], rows[column], strict=True)
        for order, value in (values or {}).items()
        if value is not None
    ]
    if not records:
        return pd.DataFrame(columns=["person_id", "stage_order", "value"])
    return (
        pd.DataFrame(records).groupby(["person_id", "stage_order"], as_index=False)["value"].mean()
    )


def stage_comparison(kpis: pd.DataFrame, *, person_id: int) -> pd.DataFrame:
    """Per stage order: the rep's conversion and days in stage against the team median.

    ``kpis``: person_id, stage_conversion, days_in_stage — one row per person and period, the
    rep's and their peers'. The team median is the median of each peer's mean (rep included).
    """
    out = pd.DataFrame(columns=COMPARISON_COLUMNS, dtype=float)
    if kpis.empty:
        return out
    for column, prefix in (("stage_conversion", "conversion"), ("days_in_stage", "days")):
        values = _per_stage(kpis, column)
        if values.empty:
            continue
        mine = values[values["person_id"] == person_id].set_index("stage_order")["value"]
        team = values.groupby("stage_order")["value"].median()
        out = out.reindex(out.index.union(team.index))
        out[f"rep_{prefix}"] = mine.reindex(out.index)
        out[f"team_{prefix}"] = team.reindex(out.index)
    out["conversion_gap"] = out["rep_conversion"] - out["team_conversion"]
    out["days_gap"] = out["rep_days"] - out["team_days"]
    out.index.name = "stage_order"
    return out.astype(float).sort_index()


def weakest_transitions(comparison: pd.DataFrame, *, limit: int = 3) -> list[int]:
    """Stage orders where the rep converts worse than the team, worst first.

    Ties (or stages the rep converts as well) are broken by extra days in stage: a stage the
    rep is slow in but converts at par still makes the list when nothing converts worse.
    """
    if comparison.empty:
        return []
    frame = comparison.assign(
        conversion_gap=comparison["conversion_gap"].fillna(0.0),
        days_gap=comparison["days_gap"].fillna(0.0),
    )
    weak = frame[(frame["conversion_gap"] < 0) | (frame["days_gap"] > 0)]
    weak = weak.sort_values(["conversion_gap", "days_gap"], ascending=[True, False])
    return [int(order) for order in weak.index[:limit]]


def trends(kpis: pd.DataFrame) -> pd.DataFrame:
    """One rep's win rate (count) and average deal size per period, in period order.

    ``kpis``: period_name, start_on, win_rate_count, average_deal_amount.
    """
    if kpis.empty:
        return pd.DataFrame(columns=["period_name", "win_rate", "average_deal"])
    ordered = kpis.sort_values("start_on")
    return pd.DataFrame(
        {
            "period_name": ordered["period_name"].to_numpy(),
            "win_rate": ordered["win_rate_count"].astype(float).to_numpy(),
            "average_deal": ordered["average_deal_amount"].astype(float).to_numpy(),
        }
    )


def activity_mix(kpis: pd.DataFrame) -> pd.Series:
    """Activities by kind, summed over the rows' periods, largest first."""
    totals: dict[str, int] = {}
    for counts in kpis.get("activities_by_kind", pd.Series(dtype=object)):
        for kind, count in (counts or {}).items():
            totals[kind] = totals.get(kind, 0) + int(count)
    return pd.Series(totals, dtype=int).sort_values(ascending=False)


def ramp_cohorts(ramp: pd.DataFrame, *, new_hire_days: int = 365) -> pd.DataFrame:
    """Each cohort's median days to first win and to full quota, and who is a new hire.

    ``ramp``: person_id, hire_cohort, days_since_hire, days_to_first_win, days_to_full_quota.
    Returns the people rows with ``cohort_first_win``/``cohort_full_quota`` (the median of
    *earlier* cohorts) and ``is_new_hire``.
    """
    if ramp.empty:
        return ramp.assign(cohort_first_win=[], cohort_full_quota=[], is_new_hire=[])
    frame = ramp.copy()
    frame["is_new_hire"] = frame["days_since_hire"] <= new_hire_days
    earlier_first, earlier_quota = [], []
    for cohort in frame["hire_cohort"]:
        before = frame[frame["hire_cohort"] < cohort]
        earlier_first.append(before["days_to_first_win"].median() if len(before) else np.nan)
        earlier_quota.append(before["days_to_full_quota"].median() if len(before) else np.nan)
    frame["cohort_first_win"] = earlier_first
    frame["cohort_full_quota"] = earlier_quota
    return frame.sort_values(["hire_cohort", "person_id"])
