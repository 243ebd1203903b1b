"""Celery tasks: ids in, one service call, retries on infrastructure errors only.

Every task is idempotent (a rerun rewrites the same rows), acks late and is rejected back to
the queue when its worker dies. Redis gives an unacked message back only after its visibility
timeout (an hour), so the full recompute does not wait for that: its run row is resumed by
``reconcile_recomputes`` once its heartbeat is stale (``services.runs``).
"""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

from salesmgmt.task_queue import RETRY_POLICY, enqueue

from .services import backtest, calls, flags, kpis, requests, runs, snapshots


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

    return runs.full_recompute_run(run_id=run_id, trials=trials, progress=progress)


@shared_task(**RETRY_POLICY)
def process_recompute_requests() -> list[int]:
    """Claim the pending incremental requests (debounced) and run them as one batch."""
    ids = requests.claim_requests()
    # Claimed rows block the next claim until they finish (or go stale after ten minutes), so
    # if the broker drops the batch here, this worker runs it itself.
    if ids and not enqueue(run_recompute_requests, args=[ids]):
        requests.run_requests(request_ids=ids)
    return ids


@shared_task(**RETRY_POLICY)
def run_recompute_requests(request_ids: list[int]) -> int:
    return requests.run_requests(request_ids=request_ids)


@shared_task(**RETRY_POLICY)
def recompute_kpis_for_people(person_ids: list[int], period_ids: list[int]) -> int:
    """The KPI rows of people whose deals, calls or quotas changed, and of those above them.

    Not sent any more (``process_kpi_requests`` coalesces them); kept for messages already
    queued when this version is deployed.
    """
    return kpis.kpis_recompute_for_people(person_ids=person_ids, period_ids=period_ids)


@shared_task(**RETRY_POLICY)
def process_kpi_requests() -> list[int]:
    """Claim the pending KPI requests once the oldest has waited its window; run them."""
    ids = requests.claim_kpi_requests()
    # As for the rollups: if the broker drops the batch, this worker runs it itself.
    if ids and not enqueue(run_kpi_requests, args=[ids]):
        requests.run_kpi_requests(request_ids=ids)
    return ids


@shared_task(**RETRY_POLICY)
def run_kpi_requests(request_ids: list[int]) -> int:
    return requests.run_kpi_requests(request_ids=request_ids)


@shared_task(**RETRY_POLICY)
def reconcile_recomputes() -> list[int]:
    """Re-enqueue requests started but never finished, kick pending ones, resume dead runs."""
    ids = requests.stale_request_ids()
    if ids:
        run_recompute_requests.delay(ids)
    process_recompute_requests.delay()
    kpi_ids = requests.stale_kpi_request_ids()
    if kpi_ids:
        run_kpi_requests.delay(kpi_ids)
    process_kpi_requests.delay()
    resume_abandoned_runs()
    requests.purge_finished()
    return ids


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
