"""Celery tasks: ids in, one service call, retries on infrastructure errors only.

Every task is idempotent (a rerun rewrites the same rows), acks late and is rejected back to
the queue when its worker dies. Redis gives an unacked message back only after its visibility
timeout (an hour), so the full recompute does not wait for that: its run row is resumed by
``reconcile_recomputes`` once its heartbeat is stale (``services.runs``).
"""

from __future__ import annotations

import logging
from functools import partial

from celery import group, shared_task
from celery.signals import worker_ready

from salesmgmt import refresh
from salesmgmt.task_queue import BROKER_ERRORS, RETRY_POLICY

from .aggregate_kinds import KPIS, ROLLUPS
from .services import backtest, calls, flags, recompute, runs, shards, snapshots

logger = logging.getLogger(__name__)


@shared_task(bind=True, **RETRY_POLICY)
def recompute_all_forecasts(
    self, trials: int | None = None, run_id: int | None = None
) -> dict[str, float] | None:
    """The nightly full recompute: model, probabilities, rollups, ranges, KPIs.

    Without ``run_id`` it starts a run (or joins the unfinished one); with it, it resumes that
    run. None: finished already, or a live worker has it.
    """

    def progress(phase: str, fraction: float) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"phase": phase, "progress": fraction})

    # Eager (no broker, embedded mode): the shards run here one after another. Otherwise this
    # worker learns and plans, and every worker on the queue takes shards.
    queue = (self.request.delivery_info or {}).get("routing_key")
    dispatch = None if self.request.is_eager else partial(send_run_step, queue=queue)
    return runs.full_recompute_run(
        run_id=run_id, trials=trials, progress=progress, dispatch=dispatch
    )


@shared_task(bind=True, **RETRY_POLICY)
def recompute_forecast_shard(self, shard_id: int) -> str | None:
    """One shard of a full run (a period's rollups, a kind's KPIs); the shard that completes
    a stage sends the next one. A shard done or held by a live worker is a no-op."""
    step = recompute.recompute_shard(
        shard_id=shard_id, worker=shards.worker_name(self.request.hostname)
    )
    if step is not None and not self.request.is_eager:
        send_run_step(step, queue=(self.request.delivery_info or {}).get("routing_key"))
    return step.stage if step is not None else None


def send_run_step(step: shards.RunStep, *, queue: str | None = None) -> None:
    """Send a stage's shards as one group to the queue the run came from. A broker outage
    loses nothing: the run's heartbeat goes stale and the reconciler sends them again."""
    if not step.shard_ids:
        return
    try:
        group(recompute_forecast_shard.si(shard_id=i) for i in step.shard_ids).apply_async(
            queue=queue
        )
    except BROKER_ERRORS as exc:
        logger.warning("Broker unreachable, %s shards left to the reconciler: %s", step, exc)


# Sent by the previous version (recompute and KPI request tables); a message still queued at
# deploy runs the kind's batch of the one refresh path (salesmgmt.refresh), which is safe.
@shared_task(**RETRY_POLICY)
def process_recompute_requests() -> int:
    return refresh.refresh_kind(kind=ROLLUPS)


@shared_task(**RETRY_POLICY)
def run_recompute_requests(request_ids: list[int]) -> int:
    return refresh.refresh_kind(kind=ROLLUPS)


@shared_task(**RETRY_POLICY)
def process_kpi_requests() -> int:
    return refresh.refresh_kind(kind=KPIS)


@shared_task(**RETRY_POLICY)
def run_kpi_requests(request_ids: list[int]) -> int:
    return refresh.refresh_kind(kind=KPIS)


@shared_task(**RETRY_POLICY)
def reconcile_recomputes() -> list[int]:
    """Resume dead full runs (stale marks are salesmgmt.tasks.refresh_sweep's)."""
    return resume_abandoned_runs()


@shared_task(**RETRY_POLICY)
def resume_abandoned_runs() -> list[int]:
    """Send again every full recompute run whose worker stopped renewing its heartbeat."""
    ids = runs.stale_run_ids()
    for run_id in ids:
        recompute_all_forecasts.apply_async(kwargs={"run_id": run_id})
    return ids


@worker_ready.connect
def resume_runs_after_restart(sender=None, **kwargs) -> None:
    """A worker restarted after a crash picks up the run its predecessor left, without
    waiting for beat: once the old heartbeat has surely gone stale."""
    if runs.unfinished_run_exists():
        resume_abandoned_runs.apply_async(countdown=runs.stale_after().total_seconds() + 5)


@shared_task(**RETRY_POLICY)
def take_weekly_snapshots() -> int:
    return snapshots.snapshot_take()


@shared_task(**RETRY_POLICY)
def lock_weekly_calls() -> int:
    return calls.calls_lock()


@shared_task(**RETRY_POLICY)
def refresh_inspection_flags() -> int:
    return flags.flags_refresh()


@shared_task(**RETRY_POLICY)
def run_backtest() -> int:
    return backtest.backtest_run()
