"""What changed in a period's open pipeline between two moments, deal by deal.

Measure: the open pipeline of the period (open deals whose expected close date falls in it),
in the reporting currency. Each deal that changed gets exactly one change type, the first
that applies in this rank order (a deal pulled in *and* enlarged counts as pulled in):

new, won, lost, pulled in, pushed out, increased, decreased, category moved.

Its delta is (its contribution at the end) - (its contribution at the start), so the start
plus every delta is the end. Category moves change no total; they are counted. A deal that
leaves the node's view altogether (given to someone outside the subtree, or deleted) is
"removed", last, so the walk from start to end always balances.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANGE_TYPES = [
    "new",
    "won",
    "lost",
    "pulled_in",
    "pushed_out",
    "increased",
    "decreased",
    "category_moved",
    "removed",
]
LABELS = {
    "new": "New",
    "won": "Won",
    "lost": "Lost",
    "pulled_in": "Pulled in",
    "pushed_out": "Pushed out",
    "increased": "Increased",
    "decreased": "Decreased",
    "category_moved": "Category moved",
    "removed": "Reassigned or deleted",
}
STATE_COLUMNS = ["opportunity_id", "owner_id", "status", "amount", "expected_close_on", "category"]


def classify_changes(
    start: pd.DataFrame, end: pd.DataFrame, *, period_start, period_end
) -> pd.DataFrame:
    """One row per changed deal: opportunity_id, owner_id, change_type, delta, amounts."""
    both = start[STATE_COLUMNS].merge(
        end[STATE_COLUMNS], on="opportunity_id", how="outer", suffixes=("_1", "_2")
    )
    lo, hi = pd.Timestamp(period_start), pd.Timestamp(period_end)

    def in_period(side: str) -> pd.Series:
        close = pd.to_datetime(both[f"expected_close_on_{side}"])
        return (both[f"status_{side}"] == "open") & (close >= lo) & (close <= hi)

    existed = both["status_1"].notna()
    in1, in2 = in_period("1"), in_period("2")
    a1 = both["amount_1"].astype(float).fillna(0.0)
    a2 = both["amount_2"].astype(float).fillna(0.0)
    was_open = both["status_1"] == "open"
    conditions = [
        ~existed & (in2 | (both["status_2"] == "won")),
        was_open & in1 & (both["status_2"] == "won"),
        was_open & in1 & (both["status_2"] == "lost"),
        existed & ~in1 & in2,
        in1 & ~in2 & (both["status_2"] == "open"),
        in1 & in2 & (a2 > a1),
        in1 & in2 & (a2 < a1),
        in1 & in2 & (both["category_1"] != both["category_2"]),
        in1 & both["status_2"].isna(),
    ]
    both["change_type"] = np.select(conditions, CHANGE_TYPES, default="")
    both["delta"] = np.where(in2, a2, 0.0) - np.where(in1, a1, 0.0)
    both["start_amount"] = np.where(in1, a1, 0.0)
    both["end_amount"] = np.where(in2, a2, 0.0)
    both["owner_id"] = both["owner_id_2"].fillna(both["owner_id_1"])
    changed = both[both["change_type"] != ""]
    return changed[
        ["opportunity_id", "owner_id", "change_type", "delta", "start_amount", "end_amount"]
    ].reset_index(drop=True)


def waterfall_steps(start_total: float, changes: pd.DataFrame) -> pd.DataFrame:
    """Start, one step per change type (in rank order), end: label, amount, count, measure."""
    sums = changes.groupby("change_type")["delta"].agg(["sum", "count"])
    rows = [
        {"key": "start", "label": "Start", "amount": start_total, "count": 0, "measure": "absolute"}
    ]
    for key in CHANGE_TYPES:
        total = float(sums["sum"].get(key, 0.0))
        count = int(sums["count"].get(key, 0))
        rows.append(
            {
                "key": key,
                "label": LABELS[key],
                "amount": total,
                "count": count,
                "measure": "relative",
            }
        )
    end_total = start_total + float(changes["delta"].sum())
    rows.append({"key": "end", "label": "End", "amount": end_total, "count": 0, "measure": "total"})
    return pd.DataFrame(rows)
