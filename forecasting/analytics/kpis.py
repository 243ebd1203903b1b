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

import json
import math
from collections.abc import Callable

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


def win_rate_value(closed: pd.DataFrame) -> pd.Series:
    """Per node, ``closed_figures``' win rate by value alone (the trailing year's, for the
    required coverage), the same sums without the counts and medians it does not need."""
    won = closed[closed["won"]]
    lost = closed[~closed["won"]]
    amounts = pd.DataFrame(
        {
            "won_amount": won.groupby("node_id")["amount"].sum(),
            "lost_amount": lost.groupby("node_id")["amount"].sum(),
        }
    ).fillna(0)
    value = amounts["won_amount"] + amounts["lost_amount"]
    return (amounts["won_amount"] / value).where(value > 0)


def stage_conversion(entries: pd.DataFrame, start, end) -> pd.Series:
    """Per node, {stage order: share of deals entering it in the period that moved on}, as
    JSON text (``json_objects``).

    ``entries``: node_id, opportunity_id, stage_order, at (entering), next_at (leaving to a
    later stage, NaT when not yet), won (bool).
    """
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    inside = entries[(entries["at"] >= lo) & (entries["at"] < hi)]
    moved = inside["next_at"].notna() | inside["won"]
    rates = moved.groupby([inside["node_id"], inside["stage_order"]]).mean()
    return json_objects(rates, lambda k: str(int(k)), lambda v: round(float(v), 4))


def days_in_stage(stays: pd.DataFrame, start, end) -> pd.Series:
    """Per node, {stage order: median days of stays that ended in the period}, as JSON text."""
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    inside = stays[(stays["left_at"] >= lo) & (stays["left_at"] < hi)]
    medians = inside.groupby(["node_id", "stage_order"])["days"].median()
    return json_objects(medians, lambda k: str(int(k)), lambda v: round(float(v), 1))


def activity_counts(activities: pd.DataFrame) -> pd.Series:
    """Per node, {kind: count}, as JSON text. ``activities``: node_id, kind, count."""
    sums = activities.groupby(["node_id", "kind"])["count"].sum()
    return json_objects(sums, str, int)


def json_objects(series: pd.Series, key: Callable, value: Callable) -> pd.Series:
    """A two-level Series (node, inner) as each node's JSON object ``{key(inner):
    value(number)}`` in the series' order, the text ``json.dumps`` writes (a Series of str
    indexed by node).

    A year's KPI shard writes some three million of these entries: each distinct key and
    number is converted once (the same ``key``/``value`` functions, so the same rounding),
    and each node's entries joined once, instead of a dict per node dumped per row.
    """
    if series.empty:
        return pd.Series([], index=pd.Index([], dtype="int64"), dtype=object)
    nodes = series.index.get_level_values(0).to_numpy()
    keys = each_distinct(series.index.get_level_values(1).to_numpy(), lambda k: json.dumps(key(k)))
    numbers = each_distinct(series.to_numpy(), lambda v: _json_number(value(v)))
    items = (keys + ": " + numbers).tolist()
    # A groupby's result is sorted by node: each node's entries are one run.
    starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
    ends = [*starts[1:].tolist(), len(items)]
    texts = ["{" + ", ".join(items[s:e]) + "}" for s, e in zip(starts.tolist(), ends, strict=True)]
    return pd.Series(texts, index=pd.Index(nodes[starts].astype("int64")), dtype=object)


def _json_number(number: float) -> str:
    """``json.dumps(number)``: the number's repr when finite (as the encoder writes it), at a
    tenth of the cost of a call through the encoder (hundreds of thousands of days medians)."""
    if type(number) is int or (type(number) is float and math.isfinite(number)):
        return repr(number)
    return json.dumps(number)


def each_distinct(values: np.ndarray, convert: Callable) -> np.ndarray:
    """``convert`` of each value (an object array), called once per distinct value: floats
    told apart by their bits (-0.0 is not 0.0 to ``repr``)."""
    floats = values.dtype == np.float64
    found = np.unique(values.view(np.int64) if floats else values, return_inverse=True)
    distinct = found[0].view(np.float64) if floats else found[0]
    positions = found[1]
    converted = np.empty(len(distinct), dtype=object)
    converted[:] = [convert(v) for v in distinct.tolist()]
    return converted[positions.reshape(-1)]


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
