"""Celery tasks: one service call each, idempotent, retried on infrastructure errors only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from celery import shared_task

from salesmgmt.models import User
from salesmgmt.task_queue import RETRY_POLICY

from . import services


@shared_task(**RETRY_POLICY)
def record_territory_balance(week_start: str | None = None) -> int:
    """Snapshot every territory's balance for the week (ISO date; default: this week), and
    recompute the territory page's planning reports.

    Safe to run twice: the rows are keyed by territory and week and simply recomputed, and a
    planning refresh writes a whole new snapshot.
    """
    day = dt.date.fromisoformat(week_start) if week_start else None
    return len(services.balance_week_record(week_start=day))


@shared_task(**RETRY_POLICY)
def refresh_territory_planning(
    force: bool = False, band: str | None = None, requested_by: int | None = None
) -> int | None:
    """Recompute the territory page's balance, coverage and rebalancing (snapshot id or None).

    Sent by "recompute now" and the nightly run (forced); the changes of this app reach the
    snapshot through the refresh path's "planning" batches instead. Without ``force`` it does
    nothing when an earlier run already covered every change. Safe to run twice: each run
    writes a whole new snapshot.
    """
    user = User.objects.filter(pk=requested_by).first() if requested_by else None
    snapshot = services.planning_refresh(
        force=force, band=Decimal(band) if band else None, requested_by=user
    )
    return snapshot.pk if snapshot else None


@shared_task(**RETRY_POLICY)
def mark_attainment_stale() -> int:
    """Mark every computed period and the current ones stale (the nightly run; the refresh
    path's batch recomputes them). Safe to run twice: marks coalesce per period."""
    return services.attainment_mark_all()
