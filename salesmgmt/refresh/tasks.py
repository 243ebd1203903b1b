"""The refresh path's two tasks (thin: one service call each; RETRY_POLICY; safe to run twice).

Registered under ``salesmgmt.tasks.*`` names (what beat and queued messages use); the module
lives here so that sending a batch (``marks``) needs nothing outside this package.
"""

from __future__ import annotations

from celery import shared_task

from ..task_queue import RETRY_POLICY, enqueue
from . import runner
from .registry import kind_get


@shared_task(name="salesmgmt.tasks.refresh_aggregate", **RETRY_POLICY)
def refresh_aggregate(kind: str) -> int:
    """One batch of one aggregate kind's stale marks, then the next if marks arrived meanwhile."""
    done = runner.refresh_kind(kind=kind)
    # Only after a batch that ran: one that claimed nothing leaves its marks to the batch in
    # flight or to the delayed message their write sent (and never loops in eager mode).
    if done and runner.has_pending(kind=kind):
        batch_send(kind=kind)
    return done


@shared_task(name="salesmgmt.tasks.refresh_sweep", **RETRY_POLICY)
def refresh_sweep() -> dict[str, int]:
    """Every kind's due or abandoned marks: what a lost message or a killed worker left."""
    done = runner.refresh_sweep()
    for kind in done:
        if runner.has_pending(kind=kind):
            batch_send(kind=kind)  # marks not yet due: their batch, after the debounce
    return done


def batch_send(*, kind: str) -> bool:
    """Send the kind's batch task (False: broker down, logged; the sweep runs it)."""
    return enqueue(refresh_aggregate, args=[kind], **kind_get(kind).send_options())
