"""Celery tasks: ids in, one service call, retries on infrastructure errors only.

``run_payouts`` is idempotent: recomputing a draft run over unchanged data rewrites nothing
(the inputs' fingerprint matches), and over changed data rebuilds the same lines a fresh run
would. It acks late and is rejected back to the queue when its worker dies.
"""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY, EnqueueTolerantTask


# Queued from a page: a broker outage must not fail the click (``delay`` logs and returns None);
# the current quarter's draft is recomputed nightly anyway (``run_current_payouts``).
@shared_task(base=EnqueueTolerantTask, **RETRY_POLICY)
def run_payouts(period_id: int) -> int:
    """Compute (or recompute) the period's draft payout run; returns the run id."""
    from salesmgmt.models import Period

    from .services import payout_run_compute

    return payout_run_compute(period=Period.objects.get(pk=period_id)).pk


@shared_task(**RETRY_POLICY)
def run_current_payouts() -> int | None:
    """Recompute the current quarter's draft run, so reps' draft statements stay current."""
    from salesmgmt.models import Period
    from salesmgmt.selectors import period_current

    from .services import payout_run_compute

    period = period_current()
    if period is None or period.kind != Period.Kind.QUARTER:
        return None
    return payout_run_compute(period=period).pk
