"""Celery tasks: one service call each, idempotent, retried on infrastructure errors only."""

from __future__ import annotations

import datetime as dt

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
def record_territory_balance(week_start: str | None = None) -> int:
    """Snapshot every territory's balance for the week (ISO date; default: this week).

    Safe to run twice: the rows are keyed by territory and week and simply recomputed.
    """
    day = dt.date.fromisoformat(week_start) if week_start else None
    return len(services.balance_snapshot_record(week_start=day))
