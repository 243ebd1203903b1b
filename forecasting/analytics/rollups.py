"""Effective categories, per-person own figures and their rollup over the reporting tree.

Effective category of a deal: the rule of ``accounts.forecast_categories`` (won is Closed,
lost is out, else the rep's chosen category, else the stage's default, else Pipeline),
vectorised here; tests/accounts/test_forecast_categories.py holds the two forms to each other.

Cumulative totals: commit = commit + closed; best case = best case + commit + closed.
Omitted deals are counted in ``omitted_amount`` only: never weighted, simulated or projected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accounts.forecast_categories import CLOSED, FALLBACK, LOST, WON

OPEN_CATEGORIES = ("pipeline", "best_case", "commit", "omitted")
SUM_COLUMNS = [
    "pipeline_amount",
    "best_case_amount",
    "commit_amount",
    "closed_amount",
    "omitted_amount",
    "open_deal_count",
    "weighted_amount",
    "variance",
    "expected_new_amount",
]


def effective_category(deals: pd.DataFrame) -> pd.Series:
    """Category per deal from ``status``, ``chosen_category`` (the deal's ``forecast_category``,
    blank = no choice) and ``stage_category`` (its stage's default): the one rule, vectorised."""
    chosen = deals["chosen_category"].astype(object)
    category = chosen.where(chosen.notna() & (chosen != ""), deals["stage_category"])
    category = category.fillna(FALLBACK).astype(object)
    category = category.mask(deals["status"] == WON, CLOSED)
    return category.mask(deals["status"] == LOST, None)


def own_figures(deals: pd.DataFrame) -> pd.DataFrame:
    """Per owner: category totals, weighted pipeline Σ a·p and variance Σ a²·p(1-p).

    ``deals``: one row per deal in the period with ``owner_id``, ``category``, ``amount``
    (reporting currency) and ``probability`` (open deals; ignored for closed ones).
    """
    frame = deals[deals["category"].notna()]
    is_open = frame["category"] != "closed"
    counted = is_open & (frame["category"] != "omitted")
    amount = frame["amount"].astype(float)
    p = frame["probability"].astype(float).fillna(0.0)
    parts = pd.DataFrame(
        {
            "owner_id": frame["owner_id"],
            "open_deal_count": is_open.astype(int),
            "weighted_amount": np.where(counted, amount * p, 0.0),
            "variance": np.where(counted, amount * amount * p * (1.0 - p), 0.0),
        }
    )
    for category in (*OPEN_CATEGORIES, "closed"):
        parts[f"{category}_amount"] = np.where(frame["category"] == category, amount, 0.0)
    figures = parts.groupby("owner_id").sum()
    figures.index.name = "person_id"
    return figures


def tree_pairs(people: pd.DataFrame) -> pd.DataFrame:
    """Every (ancestor_id, person_id) pair of the hierarchy, each person paired with themselves.

    ``people``: ``person_id`` and ``ancestor_path`` ("/1/4/").
    """
    paths = people["ancestor_path"].str.strip("/").str.split("/")
    pairs = pd.DataFrame(
        {"person_id": people["person_id"].to_numpy(), "ancestor": paths.to_numpy()}
    )
    pairs = pairs.explode("ancestor")
    pairs = pairs[pairs["ancestor"].notna() & (pairs["ancestor"] != "")]
    pairs = pd.DataFrame(
        {"ancestor_id": pairs["ancestor"].astype("int64"), "person_id": pairs["person_id"]}
    )
    own = pd.DataFrame({"ancestor_id": people["person_id"], "person_id": people["person_id"]})
    known = set(people["person_id"])
    pairs = pairs[pairs["ancestor_id"].isin(known)]
    return pd.concat([own, pairs], ignore_index=True).astype("int64")


def subtree_rollup(own: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Sum each person's own figures over their reporting subtree (themselves included)."""
    columns = [c for c in SUM_COLUMNS if c in own.columns]
    joined = pairs.merge(own[columns], left_on="person_id", right_index=True, how="inner")
    rolled = joined.groupby("ancestor_id")[columns].sum()
    rolled.index.name = "person_id"
    return rolled


def with_cumulative(figures: pd.DataFrame) -> pd.DataFrame:
    """Add cumulative commit and best case and the two projections."""
    out = figures.copy()
    out["cumulative_commit_amount"] = out["commit_amount"] + out["closed_amount"]
    out["cumulative_best_case_amount"] = out["best_case_amount"] + out["cumulative_commit_amount"]
    out["projection_weighted_amount"] = out["closed_amount"] + out["weighted_amount"]
    out["projection_run_rate_amount"] = (
        out["projection_weighted_amount"] + out["expected_new_amount"]
    )
    return out
