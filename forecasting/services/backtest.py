"""Backtest and accuracy ledger: replay past periods week by week, compare with what closed.

For each of the last ``PERIODS_BACK`` ended quarters and each week from its start:

- the pipeline is rebuilt as it stood that week from the append-only change log
  (``selectors.history``); milestone counts and deal ages are taken at that moment;
- the model is fitted only on deals closed before the quarter began, the run rate only on
  earlier quarters: nothing the forecaster could not have known then;
- sources: the model's two projections (closed + weighted; + expected new), and the call of
  record locked that week (the person's own, and their manager's adjustment of it);
- actual: the credited bookings of the quarter (``compensation.ledger``) over the person's
  subtree (the tree as it is now: the hierarchy has no history).

Entries are rewritten per period in one transaction (delete + insert): idempotent.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import transaction
from django.utils import timezone

from accounts.models import Opportunity
from salesmgmt.models import Period
from salesmgmt.money import RateTable, quantize_money

from ..analytics import probability, rollups, runrate
from ..models import AccuracyEntry, CallOfRecord, ForecastSource
from ..selectors import frames
from ..selectors.history import History
from .context import BULK, FORECAST_KIND, previous_windows

PERIODS_BACK = 4


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def backtest_run(*, now: dt.datetime | None = None, periods_back: int = PERIODS_BACK) -> int:
    """Rebuild the accuracy ledger for the last ended periods; returns entries written."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    periods = list(
        Period.objects.filter(kind=FORECAST_KIND, end_on__lt=today).order_by("-start_on")[
            :periods_back
        ]
    )
    if not periods:
        return 0
    rates = RateTable.load()
    people = frames.people_frame()
    pairs = rollups.tree_pairs(people)
    closed = frames.closed_deals_frame(rates=rates)
    events = frames.milestone_events_frame()
    events["at"] = pd.to_datetime(events["at"], utc=True)
    close_changes = frames.close_date_changes_frame()
    written = 0
    for period in periods:
        entries = _period_entries(period, now, rates, pairs, closed, events, close_changes)
        with transaction.atomic():
            AccuracyEntry.objects.filter(period=period).delete()
            AccuracyEntry.objects.bulk_create(entries, batch_size=BULK)
        written += len(entries)
    return written


def _fit_before(start: pd.Timestamp, closed, events, close_changes) -> dict:
    """The model fitted on what had closed before ``start`` (the period's beginning), with
    the milestone events and close-date pushes before it: nothing later."""
    train = closed[closed["closed_at"] <= start]
    return probability.fit(
        train,
        probability.build_observations(
            train, events[events["at"] < start], close_changes[close_changes["at"] < start]
        ),
    )


def _period_entries(period, now, rates, pairs, closed, events, close_changes):
    start = _start_of(period.start_on)
    lo, hi = pd.Timestamp(period.start_on), pd.Timestamp(period.end_on)
    params = _fit_before(pd.Timestamp(start), closed, events, close_changes)
    won = closed[closed["won"]]
    won_in = won[
        (pd.to_datetime(won["closed_on"]) >= lo) & (pd.to_datetime(won["closed_on"]) <= hi)
    ]
    # What closed is what the credit ledger credits (split shares, less cancellations).
    credited = frames.credited_bookings(period=period, rates=rates)
    actual_own = credited.rename("closed_amount").to_frame()
    actual = rollups.subtree_rollup(actual_own, pairs)["closed_amount"]
    touched = close_changes[(close_changes["new_on"] >= lo) & (close_changes["new_on"] <= hi)]
    ids = set(touched["opportunity_id"]) | set(won_in["opportunity_id"])
    history = History(opportunity_ids=ids, rates=rates)
    deal_info = pd.DataFrame(
        list(Opportunity.objects.filter(pk__in=ids).values_list("id", "process_id", "created_at")),
        columns=["opportunity_id", "process_id", "created_at"],
    )
    deal_info["created_at"] = pd.to_datetime(deal_info["created_at"], utc=True)
    records = _calls_of_record(period)
    entries = []
    week = start
    end_at = min(_start_of(period.end_on + dt.timedelta(days=1)), now)
    while week < end_at:
        forecasts = _model_forecasts(
            week, period, history, deal_info, events, params, won, close_changes, pairs
        )
        week_calls = (
            records[
                (records["locked_on"] >= week.date())
                & (records["locked_on"] < (week + dt.timedelta(days=7)).date())
            ]
            .drop_duplicates("person_id", keep="last")
            .set_index("person_id")
        )
        forecasts[ForecastSource.CALL] = week_calls["commit_amount"]
        forecasts[ForecastSource.MANAGER_ADJUSTED] = week_calls["manager_commit_amount"]
        for source, values in forecasts.items():
            values = values.dropna()
            # Nodes with nothing forecast and nothing closed have no error to score.
            values = values[(values > 0) | (actual.reindex(values.index).fillna(0) > 0)]
            for person_id, value in values.items():
                entries.append(
                    AccuracyEntry(
                        person_id=int(person_id),
                        period=period,
                        source=source,
                        as_of=week.date(),
                        forecast_amount=quantize_money(value),
                        actual_amount=quantize_money(actual.get(person_id, 0.0)),
                        computed_at=now,
                    )
                )
        week += dt.timedelta(days=7)
    return entries


def _calls_of_record(period: Period) -> pd.DataFrame:
    """The calls of record of the period; a record with no call of the person's own (only a
    manager's adjustment) has no owner commit (NaN): a call nobody made is not scored."""
    rows = (
        CallOfRecord.objects.filter(period=period)
        .order_by("locked_on")
        .values_list(
            "person_id", "locked_on", "commit_amount", "manager_commit_amount", "owner_call_id"
        )
    )
    frame = pd.DataFrame(
        list(rows),
        columns=["person_id", "locked_on", "commit_amount", "manager_commit_amount", "call_id"],
    )
    frame["commit_amount"] = frame["commit_amount"].astype(float).where(frame["call_id"].notna())
    frame["manager_commit_amount"] = pd.to_numeric(frame["manager_commit_amount"])
    return frame


def _model_forecasts(
    week, period, history, deal_info, events, params, won, close_changes, pairs
) -> dict[str, pd.Series]:
    """Both model projections per node, from the pipeline as it stood at ``week``."""
    state = history.as_of(week)
    lo, hi = pd.Timestamp(period.start_on), pd.Timestamp(period.end_on)
    state = state.merge(deal_info, on="opportunity_id", how="inner")
    close = pd.to_datetime(state["expected_close_on"])
    is_open = (state["status"] == "open") & (close >= lo) & (close <= hi)
    counted = is_open & ~state["category"].isin(["omitted"]) & state["category"].notna()
    closed_on = pd.to_datetime(state["closed_on"])
    is_won = (state["status"] == "won") & (closed_on >= lo) & (closed_on <= hi)
    open_deals = state[counted].copy()
    moments = pd.DataFrame(
        {"opportunity_id": open_deals["opportunity_id"], "at": pd.Timestamp(week)}
    )
    open_deals["milestones_done"] = probability.milestone_counts_at(
        events[events["at"] <= pd.Timestamp(week)], moments
    ).to_numpy()
    open_deals["pushes"] = probability.pushes_at(
        close_changes[close_changes["at"] <= pd.Timestamp(week)], moments
    ).to_numpy()
    open_deals["age_days"] = (
        pd.Timestamp(week) - open_deals["created_at"]
    ).dt.total_seconds() / 86400
    open_deals["probability"] = probability.score(open_deals, params) if len(open_deals) else []
    own = pd.DataFrame(
        {
            "weighted_amount": (open_deals["amount"] * open_deals["probability"])
            .groupby(open_deals["owner_id"])
            .sum(),
            "closed_amount": state[is_won].groupby("owner_id")["amount"].sum(),
        }
    ).fillna(0.0)
    history_won = won[won["closed_at"] <= pd.Timestamp(week)]
    expected = runrate.expected_new(
        history_won,
        close_changes[close_changes["at"] <= pd.Timestamp(week)],
        target=(period.start_on, period.end_on),
        history=previous_windows(period),
        today=timezone.localdate(week),
    )
    own = own.join(expected.rename("expected_new_amount"), how="outer").fillna(0.0)
    own.index = own.index.astype("int64")
    own.index.name = "person_id"
    nodes = pd.Index(sorted(set(pairs["ancestor_id"])), name="person_id")
    sub = rollups.subtree_rollup(own, pairs).reindex(nodes).fillna(0.0)
    weighted = sub["closed_amount"] + sub["weighted_amount"]
    return {
        ForecastSource.MODEL_WEIGHTED: weighted,
        ForecastSource.MODEL_RUN_RATE: weighted + sub["expected_new_amount"],
    }
