"""The import jobs' sweep (registered through ``CELERY_IMPORTS``; the core's tasks are in
``salesmgmt.tasks``)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def enqueue_stalled_imports() -> int:
    """Send again the import jobs whose task was never delivered (the broker was down)."""
    from .jobs import enqueue_stalled_jobs

    return enqueue_stalled_jobs()
