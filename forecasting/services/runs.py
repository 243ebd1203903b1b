"""The full recompute as a resumable run: started once, leased by one worker, resumed if killed.

The broker alone cannot recover a worker killed with -9 in good time: with ``acks_late`` the
message comes back only after Redis's ``visibility_timeout`` (an hour). So a run is a row
(``RecomputeRun``): ``full_recompute_run`` creates it (or joins the unfinished one: never two at
once), claims its lease and renews ``heartbeat_at`` from a thread while
``forecast_recompute_all`` works.
A run whose heartbeat, and every running shard's, is older than
``FORECASTING_RUN_STALE_SECONDS`` lost its workers (``locks.quiet_run``); the reconciler on the
beat schedule (``stale_run_ids``) sends it again and the next worker claims it: a run not yet
planned starts over from the top, a planned one runs again the shards that were not done and
those whose heartbeat went stale (``shards.lost_shards_reset``). That is safe because every
shard replaces its own rows, one writer per period at a time (``locks.lock_period_rollups``),
and exact because the run keeps its ``as_of``, trial count and model.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import locks
from ..models import RecomputeRun
from .context import Progress, configured_trials
from .leases import Heartbeat, LeaseLost, stale_after
from .recompute import forecast_recompute_all

if TYPE_CHECKING:
    from .shards import RunStep

logger = logging.getLogger(__name__)


def _resumable() -> Q:
    # Runs started by ``forecast_recompute_all`` alone (benchmarks, tests) have no lease: not ours.
    return Q(status=RecomputeRun.Status.PENDING) | (
        Q(status=RecomputeRun.Status.RUNNING) & ~Q(lease="")
    )


@transaction.atomic
def full_recompute_start(
    *, trials: int | None = None, as_of: dt.datetime | None = None
) -> RecomputeRun:
    """The unfinished run if there is one, else a new pending run for ``as_of`` (now)."""
    locks.lock_full_run_start()
    unfinished = RecomputeRun.objects.filter(_resumable()).order_by("pk").first()
    if unfinished is not None:
        return unfinished
    return RecomputeRun.objects.create(
        status=RecomputeRun.Status.PENDING,
        phase="queued",
        as_of=as_of or timezone.now(),
        trials=trials or configured_trials(),
    )


def _release(run_id: int, lease: str) -> None:
    """Give the lease back at once so a retry need not wait for it to go stale."""
    try:
        RecomputeRun.objects.filter(pk=run_id, lease=lease).update(heartbeat_at=None)
    except DatabaseError:
        logger.warning("Could not release recompute run %s; it resumes once stale", run_id)


def full_recompute_run(
    *,
    run_id: int | None = None,
    trials: int | None = None,
    progress: Progress | None = None,
    dispatch: Callable[[RunStep], None] | None = None,
) -> dict[str, float] | None:
    """Run (or resume) a full recompute; None when it is finished or a live worker has it.

    Without ``run_id`` a run is started, or the unfinished one joined. With ``dispatch`` this
    worker learns and plans, then hands the shards to it (``forecast_recompute_all``).
    """
    if run_id is None:
        run_id = full_recompute_start(trials=trials).pk
    lease, now = uuid.uuid4().hex, timezone.now()
    if not locks.claim_recompute_run(
        run_id=run_id, lease=lease, now=now, stale_before=now - stale_after()
    ):
        logger.info("Recompute run %s is finished or held by a live worker: skipped", run_id)
        return None
    run = RecomputeRun.objects.get(pk=run_id)
    if run.attempts > 1:
        logger.warning("Resuming recompute run %s (attempt %s)", run_id, run.attempts)
    # A test-only pause between phases, so a fault test can kill the worker mid-run.
    delay = float(getattr(settings, "FORECASTING_RUN_PHASE_DELAY_SECONDS", 0))
    interval = max(stale_after().total_seconds() / 4, 0.5)
    with Heartbeat(run_id=run_id, lease=lease, interval=interval) as heartbeat:

        def on_phase(name: str, fraction: float) -> None:
            if name == "done":  # saved as done already: the heartbeat has nothing left to hold
                if progress:
                    progress(name, fraction)
                return
            heartbeat.check()
            if progress:
                progress(name, fraction)
            if delay:
                time.sleep(delay)

        try:
            return forecast_recompute_all(
                run=run, trials=run.trials, progress=on_phase, dispatch=dispatch
            )
        except LeaseLost:
            logger.warning("Recompute run %s: lease lost, leaving it to its new worker", run_id)
            return None
        except (OperationalError, InterfaceError):
            _release(run_id, lease)  # infrastructure: the task retries, or the reconciler
            raise
        except Exception:
            RecomputeRun.objects.filter(pk=run_id, lease=lease).update(
                status=RecomputeRun.Status.FAILED, updated_at=timezone.now()
            )
            raise


def unfinished_run_exists() -> bool:
    return RecomputeRun.objects.filter(_resumable()).exists()


def stale_run_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Unfinished runs nobody is working on (a killed worker, a lost message): to resume."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    abandoned = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    return list(
        RecomputeRun.objects.filter(_resumable())
        .filter(abandoned & locks.quiet_run(cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
