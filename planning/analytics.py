"""The feed-back report's arithmetic (pandas only: DataFrames in, DataFrames out, no ORM).

Definitions, per row of a breakdown (a segment, a product, a lead source, or all deals):

- won / lost: deals closed won / lost in the period (``closed_on``); win rate = won / (won +
  lost), by count (the forecasting KPI definition);
- won value: the won deals' amounts in the reporting currency; for a product, the product's line
  totals on won deals (as forecasting's product figures), a deal with no line item counting its
  whole amount under "(none)"; a deal with several products counts once in each product's row;
- average deal size = won value / won deals;
- median cycle days: median days from creation to close of the row's won deals;
- activities per won deal: activities logged on the row's won deals (whenever logged, any
  kind) / won deals;
- revenue per rep = won value / the reps who closed a deal (won or lost) in the row.

Deals whose account is in no segment are under "Unassigned", deals with no lead source under
"(none)": nothing is dropped, so each breakdown's won and lost add up to the total's (products
aside, where a deal with two products is in two rows).

Planned vs actual, per segment and covering role: the coverage model's win rate, deal size and
cycle (empty: the company's history, as the plan uses them) against the segment's actuals, and
the planned calls or meetings per account a year against the calls and meetings people of that
role logged on the segment's accounts in the period, per account, annualised (x 365 / the
period's days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNASSIGNED = "Unassigned"
NO_PRODUCT = "(none)"
NO_SOURCE = "(none)"
ALL_DEALS = "All deals"
DAYS_A_YEAR = 365

BREAKDOWN_COLUMNS = [
    "key", "won", "lost", "win_rate", "won_value", "average_deal", "median_cycle_days",
    "activities_per_won_deal", "reps", "revenue_per_rep",
]  # fmt: skip
ASSUMPTION_COLUMNS = [
    "segment", "sales_role", "accounts",
    "planned_win_rate", "actual_win_rate", "planned_deal_size", "actual_deal_size",
    "planned_cycle_days", "actual_cycle_days",
    "planned_activities_per_account", "actual_activities_per_account",
]  # fmt: skip


def breakdown(deals: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per value of ``by`` (sorted by won value, then key).

    ``deals``: opportunity_id, owner_id, won (bool), amount (float), cycle_days, activities
    (on the deal), and the ``by`` column. Rows with the same deal and key are one deal.
    """
    if deals.empty:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    won = deals[deals["won"]]
    group = deals.groupby(by)
    won_group = won.groupby(by)
    out = pd.DataFrame(
        {
            "won": won_group["opportunity_id"].nunique(),
            "lost": deals[~deals["won"]].groupby(by)["opportunity_id"].nunique(),
            "won_value": won_group["amount"].sum(),
            "median_cycle_days": won_group["cycle_days"].median(),
            "won_activities": won.drop_duplicates(["opportunity_id", by])
            .groupby(by)["activities"]
            .sum(),
            "reps": group["owner_id"].nunique(),
        }
    )
    out[["won", "lost", "won_value", "won_activities"]] = out[
        ["won", "lost", "won_value", "won_activities"]
    ].fillna(0)
    decided = out["won"] + out["lost"]
    out["win_rate"] = (out["won"] / decided).where(decided > 0)
    out["average_deal"] = (out["won_value"] / out["won"]).where(out["won"] > 0)
    out["activities_per_won_deal"] = (out["won_activities"] / out["won"]).where(out["won"] > 0)
    out["revenue_per_rep"] = (out["won_value"] / out["reps"]).where(out["reps"] > 0)
    out[["won", "lost", "reps"]] = out[["won", "lost", "reps"]].astype(int)
    out = out.rename_axis("key").reset_index()
    out = out.sort_values(["won_value", "key"], ascending=[False, True], kind="stable")
    return _rounded(out[BREAKDOWN_COLUMNS].reset_index(drop=True))


def total(deals: pd.DataFrame) -> pd.DataFrame:
    """The all-deals row (one row, key "All deals")."""
    return breakdown(deals.assign(everything=ALL_DEALS), "everything")


def by_product(deals: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Deals as product rows: each deal once per product, with the product's line total as its
    amount; deals with no line item once under "(none)" with their own amount.

    ``lines``: opportunity_id, product, amount (a line total, reporting currency).
    """
    per_product = lines.groupby(["opportunity_id", "product"], as_index=False)["amount"].sum()
    with_lines = deals.drop(columns=["amount"]).merge(per_product, on="opportunity_id")
    without = deals[~deals["opportunity_id"].isin(per_product["opportunity_id"])].assign(
        product=NO_PRODUCT
    )
    return breakdown(pd.concat([with_lines, without], ignore_index=True), "product")


def feedback_breakdowns(deals: pd.DataFrame, lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The report's four tables: by segment, by product, by lead source, and the total.

    ``deals`` also carries ``segment`` (None: in no segment) and ``lead_source`` ("": none).
    """
    deals = deals.assign(
        segment=deals["segment"].fillna(UNASSIGNED) if len(deals) else deals["segment"],
        lead_source=deals["lead_source"].fillna("").str.strip().replace("", NO_SOURCE)
        if len(deals)
        else deals["lead_source"],
    )
    return {
        "segment": breakdown(deals, "segment"),
        "product": by_product(deals, lines),
        "lead_source": breakdown(deals, "lead_source"),
        "total": total(deals),
    }


def assumptions(
    plan: pd.DataFrame,
    by_segment: pd.DataFrame,
    accounts: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    period_days: int,
) -> pd.DataFrame:
    """Planned against actual, per segment and covering role.

    ``plan``: segment, sales_role, planned_win_rate, planned_deal_size, planned_cycle_days,
    planned_activities_per_account (history's defaults already filled in);
    ``by_segment``: ``breakdown`` by segment; ``accounts``: segment, accounts (how many);
    ``activities``: segment, sales_role, activities (calls and meetings in the period).
    """
    if plan.empty:
        return pd.DataFrame(columns=ASSUMPTION_COLUMNS)
    actual = by_segment.rename(
        columns={
            "key": "segment",
            "win_rate": "actual_win_rate",
            "average_deal": "actual_deal_size",
            "median_cycle_days": "actual_cycle_days",
        }
    )[["segment", "actual_win_rate", "actual_deal_size", "actual_cycle_days"]]
    logged = activities.groupby(["segment", "sales_role"], as_index=False)["activities"].sum()
    out = (
        plan.merge(actual, on="segment", how="left")
        .merge(accounts, on="segment", how="left")
        .merge(logged, on=["segment", "sales_role"], how="left")
    )
    out["accounts"] = out["accounts"].fillna(0).astype(int)
    out["activities"] = out["activities"].fillna(0)
    per_account = (out["activities"] / out["accounts"]).where(out["accounts"] > 0)
    out["actual_activities_per_account"] = per_account * DAYS_A_YEAR / max(period_days, 1)
    out = out.replace([np.inf, -np.inf], np.nan)
    return _rounded(out[ASSUMPTION_COLUMNS].reset_index(drop=True))


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Rates to 4 places (0.1 % shown), money to cents, days and counts per account to 0.1."""
    for column in frame.columns:
        if column.endswith("win_rate"):
            frame[column] = frame[column].astype(float).round(4)
        elif column.endswith(("value", "deal", "deal_size", "per_rep")):
            frame[column] = frame[column].astype(float).round(2)
        elif column.endswith(("cycle_days", "per_won_deal", "per_account")):
            frame[column] = frame[column].astype(float).round(1)
    return frame
