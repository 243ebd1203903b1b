"""pandas only: how fast new hires become productive, by hire cohort and by programme.

- Days to first deal: from the start date (``hire_date``) to the first deal they won that
  closed on or after it.
- Days to quota: from the start date to the end of the first period (quarter) ending on or
  after it in which their attainment reached 100 % (to today while that period runs).
- A cohort is the calendar quarter of the start date ("2026 Q1").

Medians are over the people who got there; ``reached`` says how many of the cohort did.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

FIGURE_COLUMNS = ["hire_date", "cohort", "days_to_first_deal", "days_to_quota"]


def hire_cohort(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def new_hire_figures(
    *, hires: pd.DataFrame, wins: pd.DataFrame, attainment: pd.DataFrame, today: dt.date
) -> pd.DataFrame:
    """Per person (index person_id): hire_date, cohort, days_to_first_deal, days_to_quota.

    ``hires``: person_id, hire_date. ``wins``: owner_id, closed_on (their won deals).
    ``attainment``: person_id, end_on, percent (per period; None without a quota).
    Days are NaN until reached.
    """
    if hires.empty:
        return pd.DataFrame(columns=FIGURE_COLUMNS, index=pd.Index([], name="person_id"))
    frame = hires.set_index("person_id")[["hire_date"]].copy()
    frame["cohort"] = [hire_cohort(day) for day in frame["hire_date"]]
    hired = pd.to_datetime(frame["hire_date"])

    first_deal = pd.Series(index=frame.index, dtype="float64")
    if not wins.empty:
        won = wins.assign(closed=pd.to_datetime(wins["closed_on"]))
        won = won[won["owner_id"].isin(frame.index)]
        won = won[won["closed"] >= hired.reindex(won["owner_id"]).to_numpy()]
        first = won.groupby("owner_id")["closed"].min()
        first_deal = (first - hired.reindex(first.index)).dt.days.reindex(frame.index)
    frame["days_to_first_deal"] = first_deal.astype("float64")

    to_quota = pd.Series(index=frame.index, dtype="float64")
    if not attainment.empty:
        met = attainment[attainment["percent"].notna()]
        met = met[met["percent"].astype(float) >= 100]
        met = met[met["person_id"].isin(frame.index)]
        ends = pd.to_datetime(met["end_on"]).clip(upper=pd.Timestamp(today))
        met = met.assign(end=ends)
        met = met[met["end"] >= hired.reindex(met["person_id"]).to_numpy()]
        reached = met.groupby("person_id")["end"].min()
        to_quota = (reached - hired.reindex(reached.index)).dt.days.reindex(frame.index)
    frame["days_to_quota"] = to_quota.astype("float64")
    return frame


def cohort_table(figures: pd.DataFrame) -> pd.DataFrame:
    """Per cohort, oldest first: hires, how many reached a first deal and quota, and the
    median days to each."""
    columns = [
        "cohort", "hires", "reached_first_deal", "median_days_to_first_deal",
        "reached_quota", "median_days_to_quota",
    ]  # fmt: skip
    if figures.empty:
        return pd.DataFrame(columns=columns)
    grouped = figures.groupby("cohort")
    table = pd.DataFrame(
        {
            "hires": grouped.size(),
            "reached_first_deal": grouped["days_to_first_deal"].count(),
            "median_days_to_first_deal": grouped["days_to_first_deal"].median(),
            "reached_quota": grouped["days_to_quota"].count(),
            "median_days_to_quota": grouped["days_to_quota"].median(),
        }
    )
    return table.sort_index().reset_index().rename(columns={"index": "cohort"})[columns]


def earlier_cohorts_median(figures: pd.DataFrame, *, cohort: str, column: str) -> float | None:
    """The median of ``column`` over everyone hired in a cohort before ``cohort``."""
    earlier = figures.loc[figures["cohort"] < cohort, column].dropna()
    return None if earlier.empty else float(earlier.median())


def programme_effect(
    figures: pd.DataFrame, *, enrolled_ids: list[int], before_ids: list[int]
) -> pd.DataFrame:
    """Reps enrolled in the programme against reps hired before it existed: how many, how
    many got there and the median days to first deal and to quota (index: the group)."""
    rows = {}
    for label, ids in (("Enrolled", enrolled_ids), ("Before the programme", before_ids)):
        group = figures.loc[figures.index.isin(ids)]
        rows[label] = {
            "reps": len(group),
            "reached_first_deal": int(group["days_to_first_deal"].count()),
            "median_days_to_first_deal": _median(group["days_to_first_deal"]),
            "reached_quota": int(group["days_to_quota"].count()),
            "median_days_to_quota": _median(group["days_to_quota"]),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _median(values: pd.Series) -> float | None:
    values = values.dropna()
    return None if values.empty else float(values.median())
