"""Expected new and pulled-in bookings, from the historical rate at the same point of a period.

For a target period at elapsed day d, look at each of the previous periods P' at P'.start + d:
the deals later won in P' that, at that moment, either did not exist yet (new) or were
expected to close after P' (pulled in) were invisible to the pipeline then. Their amount,
averaged over the previous periods, is what the pipeline alone will miss this time.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def close_on_as_of(deal_ids: pd.Series, at: pd.Timestamp, close_changes: pd.DataFrame) -> pd.Series:
    """Each deal's expected close date as it stood at ``at`` (NaT when unknown then)."""
    rows = close_changes[close_changes["at"] <= at]
    latest = rows.sort_values("at", kind="stable").drop_duplicates("opportunity_id", keep="last")
    # reindex, not Series.map: pandas' map casts an empty mapper to float64 and then refuses
    # the datetime values ("Cannot cast DatetimeArray to dtype float64").
    by_deal = latest.set_index("opportunity_id")["new_on"]
    return pd.Series(by_deal.reindex(deal_ids.to_numpy()).to_numpy(), index=deal_ids.index)


def expected_new(
    won: pd.DataFrame,
    close_changes: pd.DataFrame,
    *,
    target: tuple[dt.date, dt.date],
    history: list[tuple[dt.date, dt.date]],
    today: dt.date,
) -> pd.Series:
    """Per owner, the average new + pulled-in won amount at the same point of past periods.

    ``won``: opportunity_id, owner_id, amount, created_at (aware), closed_on (date).
    """
    if not history or won.empty or today > target[1]:
        return pd.Series(dtype=float)
    elapsed = max(0, min((today - target[0]).days, (target[1] - target[0]).days))
    totals = []
    closed_on = pd.to_datetime(won["closed_on"])
    for start, end in history:
        cutoff = pd.Timestamp(start + dt.timedelta(days=elapsed), tz="UTC")
        in_period = won[(closed_on >= pd.Timestamp(start)) & (closed_on <= pd.Timestamp(end))]
        if in_period.empty:
            totals.append(pd.Series(dtype=float))
            continue
        is_new = in_period["created_at"] > cutoff
        then_close = close_on_as_of(in_period["opportunity_id"], cutoff, close_changes)
        pulled = ~is_new & (then_close > pd.Timestamp(end))
        picked = in_period[is_new | pulled]
        totals.append(picked.groupby("owner_id")["amount"].sum())
    return pd.concat(totals, axis=1).fillna(0.0).sum(axis=1) / len(history)
