"""KPIs per person and period, own deals and over the reporting subtree: one definition each.

Every page and the API read these rows (``KpiSnapshot``); the definitions:

- won/lost count and amount: deals closed in the period (``closed_on``), reporting currency;
  the stored won amount is the person's (or subtree's) credited bookings from the credit
  ledger (``compensation.ledger``: split shares, less cancellations recorded in the period),
  the figure attainment uses; counts, win rates and average deal size stay per deal owner;
- win rate (count) = won / (won + lost); win rate (value) = won amount / closed amount
  (deal amounts);
- pipeline value: open deals expected to close in the period, omitted ones excluded;
- average deal size = won amount / won count;
- sales cycle length: median days from creation to won, of deals won in the period;
- required coverage = 1 / the win rate (value) of the trailing four quarters (own or team),
  not a blanket 3x; coverage = pipeline / remaining quota (quota - won); coverage gap =
  required - coverage (positive: not enough pipeline);
- stage-to-stage conversion: of the deals that entered a stage during the period, the share
  that reached the next stage (or won) by now, keyed by the stage's order;
- days in stage: median length of stays in each stage that ended in the period, keyed by order;
- activities by type: activities logged in the period, by kind;
- quota attainment = won / ramped quota (territories), None without a quota;
- ramp: days from hire to the first won deal, and to the end of the first period at >= 100%
  of ramped quota (among the periods computed), with the hire cohort (quarter of hire).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def expand(frame: pd.DataFrame, pairs: pd.DataFrame | None, key: str = "owner_id") -> pd.DataFrame:
    """Give each row a ``node_id``: its owner (own scope) or each of the owner's ancestors."""
    if pairs is None:
        return frame.assign(node_id=frame[key])
    return frame.merge(
        pairs.rename(columns={"ancestor_id": "node_id"}), left_on=key, right_on="person_id"
    ).drop(columns=["person_id"])


def closed_figures(closed: pd.DataFrame) -> pd.DataFrame:
    """Per node: won/lost counts and amounts, win rates, average deal, median cycle.

    ``closed``: node_id, won (bool), amount, cycle_days.
    """
    won = closed[closed["won"]]
    lost = closed[~closed["won"]]
    out = pd.DataFrame(
        {
            "won_count": won.groupby("node_id").size(),
            "lost_count": lost.groupby("node_id").size(),
            "won_amount": won.groupby("node_id")["amount"].sum(),
            "lost_amount": lost.groupby("node_id")["amount"].sum(),
            "median_cycle_days": won.groupby("node_id")["cycle_days"].median(),
        }
    )
    out[["won_count", "lost_count", "won_amount", "lost_amount"]] = out[
        ["won_count", "lost_count", "won_amount", "lost_amount"]
    ].fillna(0)
    decided = out["won_count"] + out["lost_count"]
    value = out["won_amount"] + out["lost_amount"]
    out["win_rate_count"] = (out["won_count"] / decided).where(decided > 0)
    out["win_rate_value"] = (out["won_amount"] / value).where(value > 0)
    out["average_deal_amount"] = (out["won_amount"] / out["won_count"]).where(out["won_count"] > 0)
    return out


def stage_conversion(entries: pd.DataFrame, start, end) -> dict[int, dict]:
    """Per node, {stage order: share of deals entering it in the period that moved on}.

    ``entries``: node_id, opportunity_id, stage_order, at (entering), next_at (leaving to a
    later stage, NaT when not yet), won (bool).
    """
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    inside = entries[(entries["at"] >= lo) & (entries["at"] < hi)].copy()
    inside["moved"] = inside["next_at"].notna() | inside["won"]
    rates = inside.groupby(["node_id", "stage_order"])["moved"].mean()
    return _nested(rates, lambda k: str(int(k)), lambda v: round(float(v), 4))


def days_in_stage(stays: pd.DataFrame, start, end) -> dict[int, dict]:
    """Per node, {stage order: median days of stays that ended in the period}."""
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    inside = stays[(stays["left_at"] >= lo) & (stays["left_at"] < hi)]
    medians = inside.groupby(["node_id", "stage_order"])["days"].median()
    return _nested(medians, lambda k: str(int(k)), lambda v: round(float(v), 1))


def activity_counts(activities: pd.DataFrame) -> dict[int, dict]:
    """Per node, {kind: count}. ``activities``: node_id, kind, count."""
    sums = activities.groupby(["node_id", "kind"])["count"].sum()
    return _nested(sums, str, int)


def _nested(series: pd.Series, key, value) -> dict[int, dict]:
    """A two-level Series as {node: {key: value}} (JSON-ready)."""
    out: dict[int, dict] = {}
    for (node, inner), number in series.items():
        out.setdefault(int(node), {})[key(inner)] = value(number)
    return out


def coverage(
    pipeline: pd.Series, won: pd.Series, quota: pd.Series, trailing_win_rate: pd.Series
) -> pd.DataFrame:
    """Required coverage, coverage of the remaining quota and the gap (see module docstring)."""
    remaining = (quota - won).where(quota.notna())
    cover = (pipeline / remaining).where(remaining > 0)
    required = (1 / trailing_win_rate).where(trailing_win_rate > 0)
    return pd.DataFrame(
        {"required_coverage": required, "coverage": cover, "coverage_gap": required - cover}
    ).replace([np.inf, -np.inf], np.nan)
