"""The import jobs' sweep (registered through ``CELERY_IMPORTS``; the core's tasks are in
``salesmgmt.tasks``)."""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY


@shared_task(**RETRY_POLICY)
def enqueue_stalled_imports() -> int:
    """Send again the import jobs whose task was never delivered (the broker was down)."""
    from .jobs import enqueue_stalled_jobs

    return enqueue_stalled_jobs()
