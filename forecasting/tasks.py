"""Celery tasks: ids in, one service call, retries on infrastructure errors only.

Every task is idempotent (a rerun rewrites the same rows), acks late and is rejected back to
the queue when its worker dies, so a recompute interrupted by a killed worker completes when
it is redelivered.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .services import backtest, calls, flags, kpis, recompute, requests, snapshots

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(bind=True, **RETRY)
def recompute_all_forecasts(self, trials: int | None = None) -> dict[str, float]:
    """The nightly full recompute: model, probabilities, rollups, ranges, KPIs."""

    def progress(phase: str, fraction: float) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"phase": phase, "progress": fraction})

    kwargs = {"trials": trials} if trials else {}
    return recompute.recompute_all(progress=progress, **kwargs)


@shared_task(**RETRY)
def process_recompute_requests() -> list[int]:
    """Claim the pending incremental requests (debounced) and run them as one batch."""
    ids = requests.claim_requests()
    if ids:
        run_recompute_requests.delay(ids)
    return ids


@shared_task(**RETRY)
def run_recompute_requests(request_ids: list[int]) -> int:
    return requests.run_requests(request_ids=request_ids)


@shared_task(**RETRY)
def recompute_kpis_for_people(person_ids: list[int], period_ids: list[int]) -> int:
    """The KPI rows of people whose deals, calls or quotas changed, and of those above them."""
    return kpis.recompute_kpis_for_people(person_ids=person_ids, period_ids=period_ids)


@shared_task(**RETRY)
def reconcile_recomputes() -> list[int]:
    """Re-enqueue requests started but never finished, and kick any pending ones."""
    ids = requests.stale_request_ids()
    if ids:
        run_recompute_requests.delay(ids)
    process_recompute_requests.delay()
    requests.purge_finished()
    return ids


@shared_task(**RETRY)
def take_weekly_snapshots() -> int:
    return snapshots.take_snapshot()


@shared_task(**RETRY)
def lock_weekly_calls() -> int:
    return calls.lock_calls()


@shared_task(**RETRY)
def refresh_inspection_flags() -> int:
    return flags.refresh_flags()


@shared_task(**RETRY)
def run_backtest() -> int:
    return backtest.run_backtest()
