"""Recompute the forecast aggregates: probabilities, rollups, ranges (full or for a few people).

One code path for both: ``forecast_recompute_period`` takes the people whose own deals changed
(all of them in a full run), rewrites their own rows and simulated vectors, then re-rolls the
subtree rows of them and everyone above them from the stored own rows — so an incremental run and a
full run produce the same rows. Each period is rewritten in one transaction (delete + insert;
its deal scores replaced in place, ``writers.replace_rows``), so a recompute run twice, or
redelivered after a killed worker, leaves the same rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from salesmgmt.models import Period
from salesmgmt.money import quantize_money

from .. import locks, writers
from ..analytics import montecarlo, probability, rollups, runrate
from ..analytics.kpis import each_distinct
from ..models import (
    CalibrationBucket,
    DealProbability,
    ForecastRollup,
    ProbabilityModel,
    RecomputeRun,
    RecomputeShard,
    Scope,
    SubtreeTrialVector,
    TrialVector,
)
from ..selectors import frames
from . import shards
from .context import (
    FORECAST_KIND,
    KEEP_MODELS,
    Context,
    Progress,
    configured_trials,
    forecast_periods,
    previous_windows,
)
from .leases import LeaseLost, stale_after

logger = logging.getLogger(__name__)


def probability_model_fit(ctx: Context) -> ProbabilityModel:
    """Learn win rates from every closed deal and refresh the calibration buckets."""
    closed, events, changes = ctx.closed_deals(), ctx.events(), ctx.close_changes()
    observations = probability.build_observations(closed, events, changes)
    params = probability.fit(closed, observations)
    # The held-out check reuses these looks instead of building them twice more.
    buckets = probability.calibration(closed, events, changes, observations=observations)
    with transaction.atomic():
        model = ProbabilityModel.objects.create(deal_count=len(closed), params=params)
        CalibrationBucket.objects.all().delete()
        CalibrationBucket.objects.bulk_create(
            CalibrationBucket(
                process_id=int(row.process_id),
                bucket_low=float(row.bucket_low),
                bucket_high=float(row.bucket_high),
                predicted_rate=float(row.predicted_rate),
                actual_rate=float(row.actual_rate),
                count=int(row.count),
            )
            for row in buckets.itertuples()
        )
        stale = ProbabilityModel.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
        ProbabilityModel.objects.filter(pk__in=list(stale[KEEP_MODELS:])).delete()
    return model


def score_deals(deals: pd.DataFrame, events: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Add category, milestones_done, pushes, age_ratio and probability (1 for won deals)."""
    out = deals.copy()
    out["category"] = rollups.effective_category(out)
    out = out[out["category"].notna()].copy()
    is_open = out["status"] == "open"
    moments = pd.DataFrame({"opportunity_id": out["opportunity_id"], "at": ctx.now})
    moments["at"] = pd.Timestamp(ctx.now)
    events = events[events["opportunity_id"].isin(out["opportunity_id"])]
    out["milestones_done"] = probability.milestone_counts_at(events, moments).to_numpy()
    changes = ctx.close_changes_of(out["opportunity_id"].astype(int).tolist())
    out["pushes"] = probability.pushes_at(changes, moments).to_numpy()
    created = pd.to_datetime(out["created_at"], utc=True)
    out["age_days"] = (pd.Timestamp(ctx.now) - created).dt.total_seconds() / 86400
    cycles = ctx.params.get("cycles", {})
    cycle = out["process_id"].map(lambda pid: cycles.get(str(int(pid)), 30.0)).astype(float)
    out["age_ratio"] = out["age_days"] / cycle
    out["probability"] = 1.0
    if is_open.any():
        out.loc[is_open, "probability"] = probability.score(out[is_open], ctx.params).to_numpy()
    return out


def _expected_new(period: Period, ctx: Context) -> pd.Series:
    """Each person's run rate for a period not over yet (``runrate.expected_new``)."""
    history = previous_windows(period)
    if ctx.today > period.end_on:
        return pd.Series(dtype=float)
    # Only the deals won in the previous periods and their close-date changes: all that the
    # run rate reads (every closed deal and change would be most of the database at 1 M deals).
    between = (history[-1][0], history[0][1])
    won = frames.closed_deals_frame(rates=ctx.rates, won_between=between)
    changes = frames.close_date_changes_frame(won_between=between)
    return runrate.expected_new(
        won, changes, target=(period.start_on, period.end_on), history=history, today=ctx.today
    )


ROLLUP_FIELDS = [
    "pipeline_amount", "best_case_amount", "commit_amount", "closed_amount", "omitted_amount",
    "cumulative_best_case_amount", "cumulative_commit_amount", "weighted_amount",
    "expected_new_amount", "projection_weighted_amount", "projection_run_rate_amount",
    "p10_amount", "p50_amount", "p90_amount",
]  # fmt: skip


def _write_rollups(period: Period, scope: str, figures: pd.DataFrame, at: dt.datetime) -> int:
    """Insert one scope's rows of a period (amounts in cents by the one money rule)."""
    figures = rollups.with_cumulative(figures)
    # Rounded once, from the computed floats (``quantize_money``); the variance (not money)
    # keeps its two decimals.
    figures["variance"] = figures["variance"].round(2)
    # A column at a time, each distinct amount rounded once (a period's 11,504 rows at 1 M
    # deals are 161,056 amounts, mostly zeros and repeats): the same Decimals as a call each.
    money = each_distinct(figures[ROLLUP_FIELDS].to_numpy(float).ravel(), quantize_money)
    money = money.reshape(len(figures), len(ROLLUP_FIELDS))
    rows = zip(
        figures.index.astype(int).tolist(),
        itertools.repeat(period.pk),
        itertools.repeat(scope),
        figures["open_deal_count"].astype(int).tolist(),
        figures["variance"].astype(float).tolist(),
        itertools.repeat(at),
        *(money[:, column].tolist() for column in range(len(ROLLUP_FIELDS))),
        strict=False,  # the repeats are endless; the columns are of one length
    )
    fields = [
        "person_id",
        "period_id",
        "scope",
        "open_deal_count",
        "variance",
        "computed_at",
        *ROLLUP_FIELDS,
    ]
    return writers.insert_rows(ForecastRollup, fields, rows)


def _stored_vectors(
    model: type[TrialVector] | type[SubtreeTrialVector], period: Period, person_ids: Iterable[int]
) -> dict[int, np.ndarray | None]:
    """The stored vectors of these people (an empty one, a subtree with nobody simulated:
    None); someone without a row is left out."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = model.objects.filter(period=period, person_id__in=ids).values_list("person_id", "trials")
    return {
        pid: np.frombuffer(bytes(blob), dtype=np.float32) if len(blob) else None
        for pid, blob in rows
    }


def _replace_vectors(
    model: type[TrialVector] | type[SubtreeTrialVector],
    period: Period,
    person_ids: Iterable[int],
    vectors: Mapping[int, np.ndarray | None],
    at: dt.datetime,
) -> None:
    """Rewrite the vectors of these people (``vectors``: their new ones; None, stored empty)."""
    model.objects.filter(period=period, person_id__in=list(person_ids)).delete()
    writers.insert_rows(
        model,
        ["person_id", "period_id", "trials", "computed_at"],
        (
            (pid, period.pk, b"" if vec is None else vec.tobytes(), at)
            for pid, vec in sorted(vectors.items())
        ),
    )


def forecast_recompute_period(
    period: Period,
    ctx: Context,
    *,
    owner_ids: list[int] | None = None,
    deals: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    expected_new: pd.Series | None = None,
    scored: pd.DataFrame | None = None,
) -> int:
    """Rewrite a period's aggregates for ``owner_ids`` (None: everyone) and all above them.

    ``scored``: the period's deals already scored (``_run_scores``), else they are scored here.
    Returns how many rollup rows were written.
    """
    if scored is None:
        scored = _scored_deals(period, ctx, owner_ids=owner_ids, deals=deals, events=events)
    everyone = ctx.people["person_id"].astype(int).tolist()
    people = everyone if owner_ids is None else [p for p in owner_ids if p in set(everyone)]
    # An incremental run reads the stored own rows once: the run rate and everyone else's rows.
    stored_own = None if owner_ids is None else frames.own_rollups_frame(period=period)
    own = _own_rows(
        period, ctx, scored, people=people, stored_own=stored_own, expected_new=expected_new
    )
    simulated = scored[(scored["status"] == "open") & (scored["category"] != "omitted")]
    if period.end_on < ctx.today:  # a period that is over has no range left: closed won only
        simulated = simulated.iloc[0:0]
    fresh = montecarlo.simulate_people(
        simulated, trials=ctx.trials, seed=ctx.seed, period_id=period.pk
    )
    at = ctx.now
    nodes = (
        everyone
        if owner_ids is None
        else sorted(set(ctx.pairs[ctx.pairs["person_id"].isin(people)]["ancestor_id"]))
    )
    with transaction.atomic():
        locks.lock_period_rollups(period.pk)
        if period.kind == FORECAST_KIND:  # a deal's probability row names its quarter
            _write_deals(period, scored, owner_ids, at)
        _replace_vectors(TrialVector, period, people, fresh, at)
        written = _write_own_and_subtree(
            period,
            ctx,
            own=own,
            all_own=own if stored_own is None else _merged_own(stored_own, own),
            fresh=fresh,
            people=people,
            nodes=nodes,
            is_incremental=owner_ids is not None,
        )
    return written


def _scored_deals(
    period: Period,
    ctx: Context,
    *,
    owner_ids: list[int] | None,
    deals: pd.DataFrame | None,
    events: pd.DataFrame | None,
) -> pd.DataFrame:
    """The period's deals (of ``owner_ids``) with category and probability (``score_deals``)."""
    if deals is None:
        deals = frames.deals_frame(periods=[period], rates=ctx.rates, owner_ids=owner_ids)
    if events is None:
        events = frames.milestone_events_frame(opportunity_ids=deals["opportunity_id"].tolist())
        events["at"] = pd.to_datetime(events["at"], utc=True)
    if not len(deals):
        return deals.assign(category=[], probability=[], milestones_done=[], age_ratio=[])
    return score_deals(deals, events, ctx)


def _run_scores(period: Period, ctx: Context) -> pd.DataFrame:
    """A month's or year's deals as the run's quarter shards scored them, in deal order.

    A deal's score does not depend on the period (one ``ctx.now`` and model a run), so each is
    scored once, by its quarter's shard (``DealProbability``, written before this stage), not
    again by its month's and its year's. A deal of the period that no quarter of the run holds
    (no quarter period around its day) is scored here, as before.
    """
    stored = frames.deal_scores_frame(periods=[period])
    unscored = frames.deals_frame(periods=[period], rates=ctx.rates, unscored=True)
    if not len(unscored):
        return stored
    unscored = unscored.sort_values("opportunity_id", kind="stable", ignore_index=True)
    fresh = _scored_deals(period, ctx, owner_ids=None, deals=unscored, events=None)
    both = pd.concat([stored, fresh[stored.columns]], ignore_index=True)
    return both.sort_values("opportunity_id", kind="stable", ignore_index=True)


def _own_rows(
    period: Period,
    ctx: Context,
    scored: pd.DataFrame,
    *,
    people: list[int],
    stored_own: pd.DataFrame | None,
    expected_new: pd.Series | None,
) -> pd.DataFrame:
    """Each person's own figures: their deals, credited bookings and expected new business."""
    own = rollups.own_figures(scored) if len(scored) else pd.DataFrame()
    own = own.reindex(pd.Index(people, name="person_id")).fillna(0.0)
    for column in rollups.SUM_COLUMNS:
        if column not in own:
            own[column] = 0.0
    # Closed is what the credit ledger credits each person (compensation.ledger): a split
    # partner's share, less deals cancelled in the period - the bookings attainment counts.
    # An edit's run reads only its people's credits: a year's whole ledger is too slow for it.
    credited = frames.credited_bookings(
        period=period, rates=ctx.rates, person_ids=None if stored_own is None else people
    )
    own["closed_amount"] = credited.reindex(own.index).fillna(0.0).astype(float)
    if expected_new is None:
        if stored_own is None:
            expected_new = _expected_new(period, ctx)
        else:  # an edit does not change history: keep the stored run rate
            expected_new = stored_own["expected_new_amount"]
    # In cents per person, as stored: a subtree's run rate is then the sum of its people's
    # stored ones (the reconciliation's rule), not a rounding of unrounded sums that drifts a
    # few cents from it in a subtree of thirty.
    own["expected_new_amount"] = expected_new.reindex(own.index).fillna(0.0).astype(float).round(2)
    return own


def _write_own_and_subtree(
    period: Period,
    ctx: Context,
    *,
    own: pd.DataFrame,
    all_own: pd.DataFrame,
    fresh: dict[int, np.ndarray],
    people: list[int],
    nodes: list[int],
    is_incremental: bool,
) -> int:
    """Replace the own rows of ``people`` and the subtree rows of ``nodes``, with ranges.

    A node's range is its subtree total (``montecarlo.subtree_totals``): an edit's run reads
    the stored totals of the direct reports around its chains, not everyone's vectors.
    """
    members = ctx.pairs[ctx.pairs["ancestor_id"].isin(nodes)]
    tree = ctx.tree()
    own_vectors: dict[int, np.ndarray | None] = dict(fresh)
    stored: dict[int, np.ndarray | None] = {}
    if is_incremental:
        stored, others = _stored_around(period, tree, nodes)
        own_vectors.update(_stored_vectors(TrialVector, period, others - set(people)))
    sub = rollups.subtree_rollup(all_own, members).reindex(pd.Index(nodes, name="person_id"))
    sub = sub.fillna(0.0)
    totals = montecarlo.subtree_totals(nodes, tree=tree, own=own_vectors, stored=stored)
    none = pd.Series(dtype=float)
    ranges = montecarlo.totals_quantiles(totals, none, nodes=nodes, trials=ctx.trials)
    # Someone without reports is their whole subtree: their own range is their subtree's
    # (most people, so the quantiles of 10,000 trials are taken once for both rows).
    own_ranges = ranges.reindex(pd.Index(people, name="person_id"))
    managing = [pid for pid in people if tree.reports.get(pid)]
    if managing:
        own_pairs = pd.DataFrame({"ancestor_id": managing, "person_id": managing}, dtype="int64")
        theirs = montecarlo.subtree_quantiles(
            fresh, own_pairs, none, nodes=managing, trials=ctx.trials
        )
        own_ranges.loc[managing] = theirs.loc[managing].to_numpy()  # rows by id, not position
    own_q = own_ranges.add(own["closed_amount"].reindex(own_ranges.index).fillna(0.0), axis=0)
    sub_q = ranges.add(sub["closed_amount"].reindex(ranges.index).fillna(0.0), axis=0)
    # Every node's old total goes (someone who no longer has reports keeps none).
    managers = {node: totals.get(node) for node in nodes if tree.reports.get(node)}
    _replace_vectors(SubtreeTrialVector, period, nodes, managers, ctx.now)
    ForecastRollup.objects.filter(period=period, scope=Scope.OWN, person_id__in=people).delete()
    ForecastRollup.objects.filter(period=period, scope=Scope.SUBTREE, person_id__in=nodes).delete()
    written = _write_rollups(period, Scope.OWN, own.join(own_q), ctx.now)
    return written + _write_rollups(period, Scope.SUBTREE, sub.join(sub_q), ctx.now)


def _stored_around(
    period: Period, tree: montecarlo.Tree, nodes: list[int]
) -> tuple[dict[int, np.ndarray | None], set[int]]:
    """What an edit's run adds besides its chains: the stored totals of the managers among
    the chains' other direct reports (one query a level: a manager with no stored total is
    summed from their own reports), and who else's own vector it needs (the chains
    themselves and every report below them without reports of their own)."""
    stored: dict[int, np.ndarray | None] = {}
    need_own = set(nodes)
    frontier = tree.chain_reports(nodes)
    while frontier:
        managers = [r for r in frontier if tree.reports.get(r)]
        found = _stored_vectors(SubtreeTrialVector, period, managers)
        stored.update(found)
        missing = [m for m in managers if m not in found]
        need_own.update(r for r in frontier if not tree.reports.get(r))
        need_own.update(missing)
        frontier = [r for m in missing for r in tree.reports[m]]
    return stored, need_own


def _merged_own(stored: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """Stored own rows of everyone, with the freshly computed ones in place of theirs."""
    stored = stored[~stored.index.isin(own.index)]
    return pd.concat([stored, own[stored.columns.intersection(own.columns)]])


def _write_deals(period: Period, scored: pd.DataFrame, owner_ids, at: dt.datetime) -> None:
    """The period's deal scores (of ``owner_ids``' deals) become ``scored``'s: a deal that left
    them loses its row, one that moved here from another period or owner has it rewritten."""
    stale = DealProbability.objects.filter(period=period)
    if owner_ids is not None:
        stale = stale.filter(owner_id__in=owner_ids)
    rows = zip(
        scored["opportunity_id"].astype(int),
        scored["owner_id"].astype(int),
        scored["category"],
        (quantize_money(a) for a in scored["amount"]),
        scored["probability"].astype(float),
        scored["milestones_done"].astype(int),
        scored["age_ratio"].astype(float),
        strict=False,
    )
    fields = [
        "opportunity_id",
        "owner_id",
        "category",
        "amount",
        "probability",
        "milestones_done",
        "age_ratio",
        "period_id",
        "computed_at",
    ]
    writers.replace_rows(
        DealProbability,
        fields,
        ((*row, period.pk, at) for row in rows),
        unique="opportunity_id",
        scope=stale,
    )


def forecast_recompute_all(
    *,
    now: dt.datetime | None = None,
    trials: int | None = None,
    seed: int = montecarlo.DEFAULT_SEED,
    progress: Progress | None = None,
    with_kpis: bool = True,
    run: RecomputeRun | None = None,
    dispatch: Callable[[shards.RunStep], None] | None = None,
) -> dict[str, float]:
    """Everything, for every person and every period that has deals (months, quarters and
    years) or lies around today; returns seconds per phase.

    The run's shards (``services.shards``): learn the model and plan once, then each shard.
    With ``dispatch`` (a broker's workers) the shards are handed to it and the run goes on
    there; without it they run here, one after another: the same code either way. Every
    shard replaces its own rows (delete + insert per period and scope), so a run interrupted
    at any point and resumed leaves the same rows as an undisturbed one.
    ``run`` is the claimed row of ``services.runs`` (resumable); without it a fresh row only
    reports progress.
    """
    if run is None:
        run = RecomputeRun.objects.create(
            phase="start", as_of=now or timezone.now(), trials=trials or configured_trials()
        )
    if run.as_of is None or run.trials is None:  # every shard computes for the same both
        run.as_of = run.as_of or now or timezone.now()
        run.trials = run.trials or trials or configured_trials()
        run.save(update_fields=["as_of", "trials", "updated_at"])

    def phase(name: str, fraction: float) -> None:
        if progress:  # first: it may stop a worker that lost its lease before it writes more
            progress(name, fraction)

    try:
        started = time.perf_counter()
        if shards.is_planned(run):
            step = shards.recompute_resume(run=run)
        else:
            phase("learn", 0.05)
            run.phase, run.progress = "learn", 0.05
            run.save(update_fields=["phase", "progress", "updated_at"])
            recompute_plan(run=run, with_kpis=with_kpis, progress=phase)
            run.timings = {"learn": time.perf_counter() - started}
            run.save(update_fields=["timings", "updated_at"])
            step = shards.first_step(run=run)
        if dispatch is not None:
            dispatch(step)
            return dict(run.timings)
        _run_here(run, seed=seed, phase=phase)
        run.refresh_from_db()
        timings = dict(run.timings)
        timings["total"] = time.perf_counter() - started
        if progress:
            progress("done", 1.0)
    except Exception:
        if not run.lease:  # a leased run's owner (services.runs) decides: resume or give up
            RecomputeRun.objects.filter(pk=run.pk, status__in=RecomputeRun.UNFINISHED).update(
                status=RecomputeRun.Status.FAILED, updated_at=timezone.now()
            )
        raise
    return timings


def _run_here(run: RecomputeRun, *, seed: int, phase: Progress) -> None:
    """Every shard of the run left to do, in this process, in order; the last finishes it."""
    todo = list(
        run.shards.exclude(state=RecomputeShard.State.DONE)
        .order_by("position")
        .values_list("pk", "name")
    )
    total = run.shards.count()
    for done, (shard_id, name) in enumerate(todo, start=total - len(todo)):
        phase(name, 0.1 + 0.9 * done / max(total, 1))
        recompute_shard(shard_id=shard_id, seed=seed, worker=f"in-process:{os.getpid()}")
    if not todo:
        shards.recompute_finish(run_id=run.pk)


def recompute_plan(
    *, run: RecomputeRun, with_kpis: bool = True, progress: Progress | None = None
) -> list[Period]:
    """The run's first step: learn the model once, then store it and the run's shards."""
    ctx = Context.load(now=run.as_of, params={}, trials=run.trials)
    model = probability_model_fit(ctx)
    if progress:  # a worker that lost the run's lease while learning stops here
        progress("plan", 0.1)
    periods = forecast_periods(today=ctx.today)
    full_quota_on = None
    if with_kpis:
        from .kpis import full_quota_dates

        # Once here, not in each KPI shard: the ramp needs every quarter's quota figures.
        full_quota_on = full_quota_dates([p for p in periods if p.kind == Period.Kind.QUARTER])
    shards.plan_save(
        run=run, model=model, periods=periods, with_kpis=with_kpis, full_quota_on=full_quota_on
    )
    return periods


def recompute_shard(
    *, shard_id: int, seed: int = montecarlo.DEFAULT_SEED, worker: str | None = None
) -> shards.RunStep | None:
    """Run one shard of a full run if nobody else has it; the run's next step when it was the
    last of its stage (None: others are still running, or the shard was not ours)."""
    claimed = shards.shard_claim(shard_id=shard_id, worker=worker or shards.worker_name())
    if claimed is None:
        return None
    shard, lease = claimed
    started = time.perf_counter()
    interval = max(stale_after().total_seconds() / 4, 0.5)
    with shards.ShardHeartbeat(shard=shard, lease=lease, interval=interval) as heartbeat:
        try:
            # A test-only pause, so a fault test can kill a worker in the middle of a shard.
            time.sleep(float(getattr(settings, "FORECASTING_RUN_PHASE_DELAY_SECONDS", 0)))
            heartbeat.check()
            rows = _shard_rows(shard, seed=seed)
        except LeaseLost:
            logger.warning("Recompute shard %s: lease lost, left to its new worker", shard_id)
            return None
        except (OperationalError, InterfaceError):
            shards.shard_release(shard_id=shard_id, lease=lease)  # the task's retry claims it
            raise
        except Exception:
            shards.shard_failed(shard=shard, lease=lease)
            raise
    return shards.shard_done(
        shard=shard, lease=lease, seconds=time.perf_counter() - started, rows=rows
    )


def _shard_rows(shard: RecomputeShard, *, seed: int) -> int:
    """Rewrite the shard's rows: its period's rollups, ranges and deal probabilities, or its
    periods' KPIs; returns how many rows were written."""
    run = shard.run
    if run.model is None:  # deleted under a live run: scoring with another would differ
        raise RuntimeError(f"Recompute run {run.pk} lost its probability model")
    ctx = Context.load(now=run.as_of, params=run.model.params, trials=run.trials, seed=seed)
    if shard.stage == RecomputeShard.Stage.SCORES:
        (period,) = Period.objects.filter(pk__in=shard.period_ids)
        # In deal order: a period's sums then add up in the same order on any worker.
        deals = frames.deals_frame(periods=[period], rates=ctx.rates)
        deals = deals.sort_values("opportunity_id", kind="stable", ignore_index=True)
        return forecast_recompute_period(period, ctx, deals=deals)
    if shard.stage == RecomputeShard.Stage.ROLLUPS:
        (period,) = Period.objects.filter(pk__in=shard.period_ids)
        return forecast_recompute_period(period, ctx, scored=_run_scores(period, ctx))
    from .kpis import kpis_recompute

    # Every period of the run: the ramp needs every quarter, the stage stays the first period.
    ids = shards.run_period_ids(run)
    periods = list(Period.objects.filter(pk__in=ids).order_by("start_on", "kind"))
    return kpis_recompute(
        periods=periods,
        ctx=ctx,
        period_ids=list(shard.period_ids),
        full_quota_on=shards.stored_full_quota_on(run),
    )


def forecast_recompute_people(
    *,
    person_ids: list[int],
    period_ids: list[int],
    ctx: Context | None = None,
    scored: pd.DataFrame | None = None,
) -> int:
    """The incremental recompute: these people's own figures and every subtree above them.

    ``ctx``: one loaded for the whole batch (the tree, rates and model), shared by its periods.
    ``scored``: ``people_scores`` of a span holding the periods, for at least these people.
    """
    ctx = ctx or Context.load()
    written = 0
    owners = sorted(set(person_ids))
    # Every period a deal's days name has that deal, so the full recompute covers it too
    # (``forecast_periods``): the rows written here for the changed chains are never orphans.
    for period in Period.objects.filter(pk__in=set(period_ids)).order_by("start_on", "kind"):
        # Keep the trial count of the vectors stored by the last full run, so they still add.
        stored = TrialVector.objects.filter(period=period).values_list("trials", flat=True)[:1]
        ctx.trials = len(bytes(stored[0])) // 4 if stored else configured_trials()
        mine = None if scored is None else scores_in_period(scored, period, owner_ids=owners)
        written += forecast_recompute_period(period, ctx, owner_ids=owners, scored=mine)
    return written


def people_scores(*, periods: list[Period], ctx: Context, owner_ids: list[int]) -> pd.DataFrame:
    """The scored deals (``_scored_deals``) of ``owner_ids`` counting in the span of
    ``periods``, loaded and scored once for all of them: an edit's batch recomputes its
    month, quarter and year, whose deals nest, and a deal's score does not depend on the
    period (one ``ctx.now`` and model). ``scores_in_period`` picks each period's."""
    span = Period(start_on=min(p.start_on for p in periods), end_on=max(p.end_on for p in periods))
    scored = _scored_deals(span, ctx, owner_ids=owner_ids, deals=None, events=None)
    # In deal order, as the full run sums them: a person's figures add in one order.
    return scored.sort_values("opportunity_id", kind="stable", ignore_index=True)


def scores_in_period(scored: pd.DataFrame, period: Period, *, owner_ids: list[int]) -> pd.DataFrame:
    """The rows of ``people_scores`` that ``deals_frame`` picks for ``period`` and these owners:
    open deals expected to close in it, won deals closed in it."""
    start, end = np.datetime64(period.start_on), np.datetime64(period.end_on)
    day = np.where(
        scored["status"] == "won", scored["closed_on"], scored["expected_close_on"]
    ).astype("datetime64[D]")
    inside = (day >= start) & (day <= end) & scored["status"].isin(["open", "won"]).to_numpy()
    mine = inside & scored["owner_id"].isin(owner_ids).to_numpy()
    return scored[mine].assign(period_id=period.pk).reset_index(drop=True)
