"""Inspection flags: process smells on open deals, for the manager to inspect the process.

Definitions (``now`` is the moment of the computation):

- pushed_twice: the expected close date moved later 2+ times;
- no_activity: no two-way contact in the last 14 days (``now - 14 days`` up to ``now``): an
  activity the customer took part in (``is_two_way``: a reply received, a meeting held, a
  call that reached someone; accounts.querysets.two_way_contact). One scheduled for later
  (a captured meeting next week) is not contact yet: it counts once its time has passed;
- stuck_in_stage: days in the current stage above the 80th percentile of completed stays in
  that stage by the owner's team (same manager); the whole company's when the team has fewer
  than ``MIN_SAMPLES`` such stays, and no flag with fewer still;
- close_date_past: the expected close date is before today;
- milestone_skipped: a milestone of a later stage counts as complete while the deal is still
  in an earlier one (done out of order, an exit criterion passed over);
- single_contact: one contact or none in the buying group of a large deal (amount at or above
  the 75th percentile of open deals): the contacts who took part in its captured mail and
  meetings; a deal with none captured counts the contacts at its account;
- no_decision_maker: no contact at the account has the decision-maker buying role;
- late_amount_change: the amount changed by more than 20% in the last 30 days of the period
  the deal is expected to close in.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

NO_ACTIVITY_DAYS = 14
NO_ACTIVITY_DETAIL = f"no two-way contact in {NO_ACTIVITY_DAYS} days"
STUCK_PERCENTILE = 0.8
MIN_SAMPLES = 5
LARGE_DEAL_QUANTILE = 0.75
LATE_DAYS = 30
LATE_CHANGE = 0.2


def _flag(deals: pd.DataFrame, mask: pd.Series, kind: str, detail: pd.Series | str) -> pd.DataFrame:
    picked = deals[mask.reindex(deals.index, fill_value=False).astype(bool)]
    detail = detail[mask] if isinstance(detail, pd.Series) else detail
    return pd.DataFrame(
        {
            "opportunity_id": picked["opportunity_id"],
            "owner_id": picked["owner_id"],
            "kind": kind,
            "detail": detail,
        }
    )


def stage_stays(stage_changes: pd.DataFrame) -> pd.DataFrame:
    """Completed stays in a stage: opportunity_id, stage_id, days (from the stage change log)."""
    rows = stage_changes.sort_values(["opportunity_id", "at"], kind="stable").copy()
    rows["stage_id"] = pd.to_numeric(rows["new"], errors="coerce")
    rows["left_at"] = rows.groupby("opportunity_id")["at"].shift(-1)
    done = rows[rows["left_at"].notna() & rows["stage_id"].notna()]
    return pd.DataFrame(
        {
            "opportunity_id": done["opportunity_id"],
            "stage_id": done["stage_id"].astype("int64"),
            "at": done["at"],
            "left_at": done["left_at"],
            "days": (done["left_at"] - done["at"]).dt.total_seconds() / 86400,
        }
    )


def compute_flags(
    deals: pd.DataFrame,
    *,
    now: dt.datetime,
    close_changes: pd.DataFrame,
    amount_changes: pd.DataFrame,
    stays: pd.DataFrame,
    activities: pd.DataFrame,
    contacts: pd.DataFrame,
    completed: pd.DataFrame,
    period_ends: pd.Series,
    buying_group: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All flags of open ``deals`` as rows: opportunity_id, owner_id, kind, detail.

    ``deals``: opportunity_id, owner_id, manager_id, amount, expected_close_on, stage_id,
    stage_order, stage_entered_at, account_id. ``completed``: opportunity_id, stage_order of
    each milestone that counts as complete. ``period_ends``: per opportunity_id, the last day
    of the period its close date falls in.
    """
    deals = deals.reset_index(drop=True)
    now_ts = pd.Timestamp(now)
    today = now_ts.tz_convert("UTC").normalize().tz_localize(None)
    close = pd.to_datetime(deals["expected_close_on"])
    out = [
        _pushed_twice(deals, close_changes),
        _no_activity(deals, activities, now_ts),
        _stuck_in_stage(deals, stays, now_ts),
        _flag(deals, close < today, "close_date_past", "close date passed"),
        _milestone_skipped(deals, completed),
        *_contact_flags(deals, contacts, buying_group),
        _late_amount_change(deals, amount_changes, period_ends),
    ]
    flags = pd.concat([frame for frame in out if frame is not None], ignore_index=True)
    return flags.drop_duplicates(["opportunity_id", "kind"]).reset_index(drop=True)


def _pushed_twice(deals: pd.DataFrame, close_changes: pd.DataFrame) -> pd.DataFrame:
    pushes = close_changes[close_changes["new_on"] > close_changes["old_on"]]
    push_count = deals["opportunity_id"].map(pushes.groupby("opportunity_id").size()).fillna(0)
    return _flag(
        deals, push_count >= 2, "pushed_twice", push_count.astype(int).astype(str) + " pushes"
    )


def _no_activity(
    deals: pd.DataFrame, activities: pd.DataFrame, now_ts: pd.Timestamp
) -> pd.DataFrame:
    at = activities["occurred_at"]
    recent = activities[(at >= now_ts - pd.Timedelta(days=NO_ACTIVITY_DAYS)) & (at <= now_ts)]
    if "is_two_way" in recent:
        recent = recent[recent["is_two_way"].astype(bool)]
    touched = set(recent["opportunity_id"].dropna().astype("int64"))
    return _flag(
        deals,
        ~deals["opportunity_id"].isin(touched),
        "no_activity",
        NO_ACTIVITY_DETAIL,
    )


def _stuck_in_stage(
    deals: pd.DataFrame, stays: pd.DataFrame, now_ts: pd.Timestamp
) -> pd.DataFrame | None:
    """Longer in the stage than the team's (or, with too few stays, the company's) limit."""
    if stays.empty:
        return None
    entered = pd.to_datetime(deals["stage_entered_at"], utc=True)
    days_in = (now_ts - entered).dt.total_seconds() / 86400
    team = stays.merge(deals[["opportunity_id", "manager_id"]], on="opportunity_id", how="left")
    by_team = team.groupby(["manager_id", "stage_id"])["days"].agg(
        limit=lambda d: d.quantile(STUCK_PERCENTILE), n="size"
    )
    by_stage = stays.groupby("stage_id")["days"].agg(
        limit=lambda d: d.quantile(STUCK_PERCENTILE), n="size"
    )
    keys = pd.MultiIndex.from_arrays([deals["manager_id"], deals["stage_id"]])
    team_limit = by_team.reindex(keys)
    stage_limit = by_stage.reindex(deals["stage_id"])
    limit = np.where(
        team_limit["n"].to_numpy() >= MIN_SAMPLES,
        team_limit["limit"].to_numpy(),
        np.where(
            stage_limit["n"].to_numpy() >= MIN_SAMPLES, stage_limit["limit"].to_numpy(), np.nan
        ),
    )
    limit = pd.Series(limit, index=deals.index)
    stuck = limit.notna() & (days_in > limit)
    return _flag(
        deals,
        stuck,
        "stuck_in_stage",
        days_in.round().astype("Int64").astype(str) + " days in stage",
    )


def _milestone_skipped(deals: pd.DataFrame, completed: pd.DataFrame) -> pd.DataFrame | None:
    if completed.empty:
        return None
    furthest = completed.groupby("opportunity_id")["stage_order"].max()
    ahead = deals["opportunity_id"].map(furthest) > deals["stage_order"]
    return _flag(
        deals, ahead.fillna(False), "milestone_skipped", "a later stage's milestone is done"
    )


def _contact_flags(
    deals: pd.DataFrame, contacts: pd.DataFrame, buying_group: pd.DataFrame | None = None
) -> list[pd.DataFrame]:
    """single_contact (large deals only) and no_decision_maker."""
    per_account = contacts.groupby("account_id").size()
    deciders = set(contacts.loc[contacts["buying_role"] == "decision_maker", "account_id"])
    large = deals["amount"] >= deals["amount"].quantile(LARGE_DEAL_QUANTILE)
    contact_count = deals["account_id"].map(per_account).fillna(0)
    if buying_group is not None and not buying_group.empty:
        group_size = deals["opportunity_id"].map(buying_group.groupby("opportunity_id").size())
        contact_count = group_size.fillna(contact_count)
    return [
        _flag(
            deals,
            large & (contact_count <= 1),
            "single_contact",
            contact_count.astype(int).astype(str) + " contact(s)",
        ),
        _flag(
            deals,
            ~deals["account_id"].isin(deciders),
            "no_decision_maker",
            "no decision maker among contacts",
        ),
    ]


def _late_amount_change(
    deals: pd.DataFrame, amount_changes: pd.DataFrame, period_ends: pd.Series
) -> pd.DataFrame | None:
    if amount_changes.empty:
        return None
    changes = amount_changes.copy()
    changes["old_amount"] = pd.to_numeric(changes["old"], errors="coerce")
    changes["new_amount"] = pd.to_numeric(changes["new"], errors="coerce")
    changes = changes[changes["old_amount"] > 0]
    if changes.empty:
        return None
    ratio = (changes["new_amount"] - changes["old_amount"]).abs() / changes["old_amount"]
    ends = pd.to_datetime(
        pd.Series(
            pd.to_datetime(period_ends).reindex(changes["opportunity_id"]).to_numpy(),
            index=changes.index,
        )
    )
    changed_at = changes["at"].dt.tz_convert("UTC").dt.tz_localize(None)
    late = (ratio > LATE_CHANGE) & (changed_at >= ends - pd.Timedelta(days=LATE_DAYS))
    late_ids = set(changes.loc[late, "opportunity_id"])
    return _flag(
        deals,
        deals["opportunity_id"].isin(late_ids),
        "late_amount_change",
        "amount moved > 20% near period end",
    )


# Flags that say "nobody works this deal": on a deal imported from another system and not
# worked here since, they describe the old system's history, not neglect.
NEGLECT_KINDS = ("pushed_twice", "no_activity", "stuck_in_stage", "close_date_past")
IMPORTED_UNWORKED = "imported_unworked"


def set_aside_imported(flags: pd.DataFrame, unworked_ids: set[int]) -> pd.DataFrame:
    """Replace the neglect flags of imported deals not worked here since (``unworked_ids``)
    by one ``imported_unworked`` flag per deal, whose detail names the flags set aside."""
    is_aside = flags["opportunity_id"].isin(unworked_ids) & flags["kind"].isin(NEGLECT_KINDS)
    if not is_aside.any():
        return flags
    aside = flags[is_aside]
    grouped = (
        aside.sort_values("kind")
        .groupby(["opportunity_id", "owner_id"], sort=True)["kind"]
        .agg(lambda kinds: "imported, not worked here since; would be: " + ", ".join(kinds))
        .reset_index()
        .rename(columns={"kind": "detail"})
        .assign(kind=IMPORTED_UNWORKED)
    )
    kept = flags[~is_aside]
    return pd.concat([kept, grouped[kept.columns]], ignore_index=True)
