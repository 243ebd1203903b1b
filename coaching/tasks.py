"""Celery tasks: one service call each, idempotent, retried on infrastructure errors only."""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY

from . import services


@shared_task(**RETRY_POLICY)
def refresh_compliance(user_ids: list[int] | None = None, force: bool = False) -> list[int]:
    """Recompute the precomputed compliance summaries that are stale (the user ids done).

    Enqueued a few seconds after every change it depends on (so a burst makes one run), on
    a person's first dashboard view, and by the sweep and the nightly run; without ``force``
    it does nothing for summaries already current. Safe to run twice: each run overwrites
    the summaries with the live computation.
    """
    return services.compliance_refresh(user_ids=user_ids, force=force)
