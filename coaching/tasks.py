"""Celery tasks: one service call each, idempotent, retried on infrastructure errors only."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**RETRY)
def refresh_compliance(user_ids: list[int] | None = None, force: bool = False) -> list[int]:
    """Recompute the precomputed compliance summaries that are stale (the user ids done).

    Enqueued a few seconds after every change it depends on (so a burst makes one run), on
    a person's first dashboard view, and by the sweep and the nightly run; without ``force``
    it does nothing for summaries already current. Safe to run twice: each run overwrites
    the summaries with the live computation.
    """
    return services.compliance_refresh(user_ids=user_ids, force=force)
