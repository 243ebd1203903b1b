"""The full recompute in shards any worker may run: learn once, then the shards, then finish.

``recompute_plan`` (the run's first step, one worker) learns the probability model once, stores
it on the run and makes the run's shards: one per period for the rollups (years first, so the
largest start first and two workers end together), then one per few periods of a kind for the
KPIs, which read the stored rollups of their periods. ``recompute_shard`` runs one shard on whichever
worker took its message: it claims the shard's lease, renews the shard's heartbeat and the run's
from a thread, and rewrites only the shard's own rows, each period in one transaction (delete +
insert, ``recompute.forecast_recompute_period``, ``kpis.kpis_recompute``), so a shard run twice
leaves the same rows. The shard that completes a stage moves the run on (``RunStep``): the next
stage's shards to send, or the run finished.

Celery sends each stage's shards as a ``group`` (``forecasting.tasks``); the join is counted in
the database, not in a result backend (the project keeps none, and a chord's counter never
completes when a worker dies mid-task). Without a broker (embedded mode) ``forecast_recompute_all``
runs the same shards one after another in the process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from salesmgmt.models import Period

from .. import locks
from ..analytics import montecarlo
from ..models import DealProbability, RecomputeRun, RecomputeShard
from ..selectors import frames
from . import recompute
from .context import Context, Progress, forecast_periods, periods_by_kind
from .runs import Heartbeat, LeaseLost, stale_after

logger = logging.getLogger(__name__)

Stage = RecomputeShard.Stage
STAGES = [Stage.ROLLUPS, Stage.KPIS]
# Largest first (a year holds twelve months' deals): the last shard to start is a small one.
SIZE_ORDER = {Period.Kind.YEAR: 0, Period.Kind.QUARTER: 1, Period.Kind.MONTH: 2}
# The KPIs of a kind's periods, this many to a shard: each shard loads the deals, stage history
# and quotas once (about a second at 200,000 deals), then works per period; forty months in one
# shard would make it the run's long pole.
KPI_PERIODS_PER_SHARD = 6


def _by_size(item: tuple[str, list[Period]]) -> int:
    return SIZE_ORDER[item[0]]


def worker_name(node: str | None = None) -> str:
    """The Celery node (or host) and the process: what the recompute page shows per shard."""
    return f"{node or socket.gethostname()}:{os.getpid()}"


def is_planned(run: RecomputeRun) -> bool:
    return run.model_id is not None and run.shards.exists()


def recompute_plan(
    *, run: RecomputeRun, with_kpis: bool = True, progress: Progress | None = None
) -> list[Period]:
    """Learn the model, store it on the run and make its shards; returns the periods.

    A run planned already (resumed after its worker died) keeps its model and its shards.
    """
    ctx = Context.load(now=run.as_of, params={}, trials=run.trials)
    model = recompute.probability_model_fit(ctx)
    if progress:  # a worker that lost the run's lease while learning stops here
        progress("plan", 0.1)
    periods = forecast_periods(today=ctx.today)
    rollup_periods = sorted(periods, key=lambda p: (SIZE_ORDER[p.kind], p.start_on))
    parts = [(Stage.ROLLUPS, f"rollups {p.name}", [p.pk]) for p in rollup_periods]
    if with_kpis:
        for _, same_kind in sorted(periods_by_kind(periods).items(), key=_by_size):
            for start in range(0, len(same_kind), KPI_PERIODS_PER_SHARD):
                chunk = same_kind[start : start + KPI_PERIODS_PER_SHARD]
                name = f"kpis {chunk[0].name}" + (f" to {chunk[-1].name}" if chunk[1:] else "")
                parts.append((Stage.KPIS, name, [p.pk for p in chunk]))
    with transaction.atomic():
        DealProbability.objects.exclude(period__in=periods).delete()
        run.shards.all().delete()
        RecomputeShard.objects.bulk_create(
            RecomputeShard(run=run, stage=stage, position=i, name=name[:60], period_ids=ids)
            for i, (stage, name, ids) in enumerate(parts)
        )
        run.model, run.phase, run.progress = model, Stage.ROLLUPS, 0.1
        run.save(update_fields=["model", "phase", "progress", "updated_at"])
    logger.info("Recompute run %s planned: %s shards on model %s", run.pk, len(parts), model.pk)
    return periods


class ShardHeartbeat(Heartbeat):
    """Renews the shard's heartbeat and its run's: a run with a live shard is not abandoned."""

    def __init__(self, *, shard: RecomputeShard, lease: str, interval: float) -> None:
        super().__init__(run_id=shard.run_id, lease=lease, interval=interval)
        self.shard_id = shard.pk
        self._thread.name = f"heartbeat-shard-{shard.pk}"

    def renew(self, now: dt.datetime) -> bool:
        held = RecomputeShard.objects.filter(
            pk=self.shard_id, lease=self.lease, state=RecomputeShard.State.RUNNING
        ).update(heartbeat_at=now)
        if held:
            RecomputeRun.objects.filter(pk=self.run_id, status=RecomputeRun.Status.RUNNING).update(
                heartbeat_at=now
            )
        return bool(held)

    def exists(self) -> bool:
        return RecomputeShard.objects.filter(pk=self.shard_id).exists()


@dataclass(frozen=True)
class RunStep:
    """What follows a shard: a stage's shards to send (``shard_ids``), or the run done."""

    stage: str
    shard_ids: list[int]


def recompute_shard(
    *, shard_id: int, seed: int = montecarlo.DEFAULT_SEED, worker: str | None = None
) -> RunStep | None:
    """Run one shard if nobody else has it; returns the run's next step when it is the last
    of its stage (None: others are still running, or the shard was not ours to run)."""
    lease, now = uuid.uuid4().hex, timezone.now()
    worker = worker or worker_name()
    if not locks.claim_recompute_shard(
        shard_id=shard_id,
        lease=lease,
        worker=worker,
        now=now,
        stale_before=now - stale_after(),
    ):
        logger.info("Recompute shard %s is done, or held by a live worker: skipped", shard_id)
        return None
    shard = RecomputeShard.objects.select_related("run", "run__model").get(pk=shard_id)
    run = shard.run
    logger.info(
        "Recompute run %s shard %s (%s) started on %s, attempt %s",
        run.pk, shard.position, shard.name, worker, shard.attempts,
    )  # fmt: skip
    started = time.perf_counter()
    interval = max(stale_after().total_seconds() / 4, 0.5)
    with ShardHeartbeat(shard=shard, lease=lease, interval=interval) as heartbeat:
        try:
            # A test-only pause, so a fault test can kill the worker in the middle of a shard.
            time.sleep(float(getattr(settings, "FORECASTING_RUN_PHASE_DELAY_SECONDS", 0)))
            heartbeat.check()
            rows = _compute(shard, run, seed=seed)
        except LeaseLost:
            logger.warning("Recompute shard %s: lease lost, left to its new worker", shard_id)
            return None
        except (OperationalError, InterfaceError):
            _release(shard_id, lease)  # infrastructure: the task retries it, or the run resumes
            raise
        except Exception:
            with transaction.atomic():
                RecomputeShard.objects.filter(pk=shard_id, lease=lease).update(
                    state=RecomputeShard.State.FAILED, updated_at=timezone.now()
                )
                RecomputeRun.objects.filter(pk=run.pk, status__in=RecomputeRun.UNFINISHED).update(
                    status=RecomputeRun.Status.FAILED, updated_at=timezone.now()
                )
            logger.exception("Recompute run %s shard %s (%s) failed", run.pk, shard_id, shard.name)
            raise
    seconds = time.perf_counter() - started
    finished = RecomputeShard.objects.filter(pk=shard_id, lease=lease).update(
        state=RecomputeShard.State.DONE,
        finished_at=timezone.now(),
        seconds=seconds,
        rows=rows,
        heartbeat_at=None,
        updated_at=timezone.now(),
    )
    logger.info(
        "Recompute run %s shard %s (%s) finished on %s in %.2f s, %s rows",
        run.pk, shard.position, shard.name, worker, seconds, rows,
    )  # fmt: skip
    return run_advance(run_id=run.pk) if finished else None


def _compute(shard: RecomputeShard, run: RecomputeRun, *, seed: int) -> int:
    """The shard's rows: its period's rollups and deal probabilities, or its periods' KPIs."""
    if run.model is None:  # deleted under a live run: scoring with another would differ
        raise RuntimeError(f"Recompute run {run.pk} lost its probability model")
    ctx = Context.load(now=run.as_of, params=run.model.params, trials=run.trials, seed=seed)
    if shard.stage == Stage.ROLLUPS:
        (period,) = Period.objects.filter(pk__in=shard.period_ids)
        # In deal order: sums over a period's deals then add up in the same order on any worker.
        deals = frames.deals_frame(periods=[period], rates=ctx.rates)
        deals = deals.sort_values("opportunity_id", kind="stable", ignore_index=True)
        return recompute.forecast_recompute_period(period, ctx, deals=deals)
    from .kpis import kpis_recompute

    # Every period of the run: the ramp needs every quarter, the stage stays the first period.
    periods = list(Period.objects.filter(pk__in=_run_period_ids(run)).order_by("start_on", "kind"))
    return kpis_recompute(periods=periods, ctx=ctx, period_ids=list(shard.period_ids))


def _run_period_ids(run: RecomputeRun) -> set[int]:
    ids: set[int] = set()
    for period_ids in run.shards.filter(stage=Stage.ROLLUPS).values_list("period_ids", flat=True):
        ids.update(period_ids)
    return ids


def _release(shard_id: int, lease: str) -> None:
    RecomputeShard.objects.filter(pk=shard_id, lease=lease).update(
        state=RecomputeShard.State.PENDING, heartbeat_at=None, updated_at=timezone.now()
    )


def run_advance(*, run_id: int) -> RunStep | None:
    """After a shard finished: the first stage with shards left (once, for the shard that
    completed the one before it), or the run finished when none is left."""
    counts = pd.DataFrame(
        list(RecomputeShard.objects.filter(run_id=run_id).values_list("stage", "state")),
        columns=["stage", "state"],
    )
    done = int((counts["state"] == RecomputeShard.State.DONE).sum())
    RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED).update(
        progress=0.1 + 0.9 * done / max(len(counts), 1), updated_at=timezone.now()
    )
    open_stages = set(counts.loc[counts["state"] != RecomputeShard.State.DONE, "stage"])
    for stage in STAGES:
        if stage in open_stages:
            # One UPDATE decides which of two shards finishing together sends the next stage.
            moved = (
                RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.RUNNING)
                .exclude(phase=stage)
                .update(phase=stage, updated_at=timezone.now())
            )
            return RunStep(stage, pending_ids(run_id, stage)) if moved else None
    return RunStep("done", []) if recompute_finish(run_id=run_id) else None


def pending_ids(run_id: int, stage: str) -> list[int]:
    return list(
        RecomputeShard.objects.filter(run_id=run_id, stage=stage)
        .exclude(state=RecomputeShard.State.DONE)
        .order_by("position")
        .values_list("pk", flat=True)
    )


def recompute_resume(*, run: RecomputeRun) -> RunStep:
    """A claimed run: its shards left running were lost with their workers (a live shard
    keeps the run's heartbeat fresh, so the run could not have been claimed), so they start
    again; returns the stage to send now, or the run finished."""
    RecomputeShard.objects.filter(run=run, state=RecomputeShard.State.RUNNING).update(
        state=RecomputeShard.State.PENDING, heartbeat_at=None, updated_at=timezone.now()
    )
    for stage in STAGES:
        pending = pending_ids(run.pk, stage)
        if pending:
            RecomputeRun.objects.filter(pk=run.pk).update(phase=stage, updated_at=timezone.now())
            return RunStep(stage, pending)
    recompute_finish(run_id=run.pk)
    return RunStep("done", [])


def recompute_finish(*, run_id: int) -> bool:
    """Mark the run done with its timings (learning, each shard, the wall time); True if this
    call finished it."""
    run = RecomputeRun.objects.get(pk=run_id)
    shards = RecomputeShard.objects.filter(run_id=run_id)
    if run.status not in RecomputeRun.UNFINISHED or shards.exclude(state=RecomputeShard.State.DONE):
        return False
    timings = {"learn": float(run.timings.get("learn", 0.0))}
    timings.update({name: s for name, s in shards.values_list("name", "seconds") if s})
    span = shards.aggregate(first=Min("started_at"), last=Max("finished_at"))
    if span["first"] and span["last"]:
        timings["shards"] = (span["last"] - span["first"]).total_seconds()
        timings["total"] = timings["learn"] + timings["shards"]
    now = timezone.now()
    finished = RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED).update(
        status=RecomputeRun.Status.DONE,
        phase="done",
        progress=1.0,
        timings=timings,
        finished_at=now,
        heartbeat_at=None,
        updated_at=now,
    )
    if finished:
        logger.info("Recompute run %s done in %.2f s", run_id, timings.get("total", 0.0))
    return bool(finished)
