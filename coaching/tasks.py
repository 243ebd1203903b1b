"""Celery tasks: one service call each, idempotent, retried on infrastructure errors only."""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY

from . import services


@shared_task(**RETRY_POLICY)
def mark_compliance_stale() -> int:
    """Mark every active seller's compliance stale (the nightly run; the refresh path's batch
    recomputes them). Safe to run twice: marks coalesce per person."""
    return services.compliance_mark_all()


@shared_task(**RETRY_POLICY)
def mark_compliance_rolled_over() -> int:
    """Mark the summaries computed before today stale (the day rolled over). Safe to run
    twice: marks coalesce per person."""
    return services.compliance_mark_rolled_over()
