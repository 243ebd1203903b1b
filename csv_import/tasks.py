"""Celery tasks of the CSV import: run one job, and the sweep that sends stalled jobs again.

Their registered names are the ones they had when this package lived in the core
(``salesmgmt.tasks.run_import``, ``salesmgmt.csv_import.tasks.enqueue_stalled_imports``): a
message queued before a deploy still finds its task, and FailedTask rows keep one name.
"""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY


@shared_task(name="salesmgmt.tasks.run_import", **RETRY_POLICY)
def run_import(job_id: int) -> str | None:
    """Validate (dry run) or apply one CSV import; safe to redeliver (a finished job is kept)."""
    from .jobs import run_import_job

    job = run_import_job(job_id=job_id)
    return job.status if job else None


@shared_task(name="salesmgmt.csv_import.tasks.enqueue_stalled_imports", **RETRY_POLICY)
def enqueue_stalled_imports() -> int:
    """Send again the import jobs whose task was never delivered (the broker was down)."""
    from .jobs import enqueue_stalled_jobs

    return enqueue_stalled_jobs()
