"""Import jobs: create (and enqueue), run (called by the Celery task), and live progress."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import Error as DatabaseFailure
from django.db import OperationalError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from salesmgmt.errors import ApplicationError, PermissionDeniedError
from salesmgmt.input_sanitation import NUL_CHARACTER, text_problem
from salesmgmt.models import ImportJob, ImportKind, User
from salesmgmt.task_queue import enqueue

from . import apply, parsing, specs
from .mappings import import_mapping_save, mapping_problems
from .problems import problem_summary
from .selectors.mapping import import_review_context

logger = logging.getLogger(__name__)
PROGRESS_TTL = 6 * 60 * 60
# A pending job not picked up after this long lost its message (broker down when it was
# created, or flushed): ``enqueue_stalled_jobs`` sends it again.
STALLED_AFTER = dt.timedelta(minutes=2)
# A running job is re-run only once Redis would have redelivered its message anyway (the
# broker's visibility timeout): before that its worker may still be applying it.
RUNNING_STALE_AFTER = dt.timedelta(hours=1)


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def live_rows_done(job: ImportJob) -> int:
    """Rows processed so far: while running, from the cache (the rows are written in one
    transaction, so the row's own counter only moves at the end)."""
    if job.status == ImportJob.Status.RUNNING:
        return cache.get(_progress_key(job.pk), job.rows_done)
    return job.rows_done


def decoded_text(content: str | bytes) -> str:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": "Save the file as CSV in UTF-8."}) from None
    content = content.removeprefix("\ufeff")
    # The one sanitation point: a NUL means a binary file; a lone surrogate (only possible
    # in text sent as JSON) cannot be stored.
    problem = text_problem(content)
    if problem == NUL_CHARACTER:
        raise ValidationError({"file": "This is not a text CSV file."})
    if problem:
        raise ValidationError({"file": problem})
    return content


@transaction.atomic
def create_import_job(
    *,
    actor: User,
    kind: str,
    content: str | bytes,
    file_name: str = "",
    dry_run: bool = True,
    column_map: dict[str, object] | None = None,
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, str] | None = None,
    in_session: bool = False,
    map_first: bool = False,
) -> ImportJob:
    """Store the file and enqueue ``run_import`` after commit (in-process without a broker).

    ``in_session``: the actor is signed in (not using an API token); only then may a users
    import by an administrator change roles (``salesmgmt.services.user_update``).
    ``map_first``: keep the job waiting for its mapping (``import_job_map``), not queued."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": "Choose what the file contains."})
    if kind == ImportKind.USERS and not apply.can_import_users(actor):
        raise PermissionDeniedError("Only administrators and integrations import people.")
    size = len(content.encode() if isinstance(content, str) else content)
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {settings.IMPORT_MAX_BYTES // 2**20} MB."}
        )
    text = decoded_text(content)
    if not text.strip():
        raise ValidationError({"file": "The file is empty."})
    column_map, value_map, options = column_map or {}, value_map or {}, options or {}
    problems = mapping_problems(
        kind=kind, column_map=column_map, value_map=value_map, options=options
    )
    if problems:
        raise ValidationError(problems)
    job = ImportJob(
        kind=kind,
        created_by=actor,
        file_name=file_name[:255],
        content=text,
        dry_run=dry_run,
        column_map=column_map,
        value_map=value_map,
        options=options,
        created_in_session=in_session,
        status=ImportJob.Status.MAPPING if map_first else ImportJob.Status.PENDING,
    )
    job.full_clean()
    job.save()
    if not map_first:
        _enqueue_on_commit(job)
    return job


def _enqueue_on_commit(job: ImportJob) -> None:
    from . import tasks

    def enqueue_after_commit() -> None:
        if _runs_in_background_thread():
            start_in_background(job.pk)
            return
        # Broker down? The job stays pending and ``enqueue_stalled_jobs`` (beat) sends it.
        enqueue(tasks.run_import, args=[job.pk])

    transaction.on_commit(enqueue_after_commit, robust=True)


@transaction.atomic
def import_job_map(
    *,
    actor: User,
    job: ImportJob,
    column_map: dict[str, object],
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, str] | None = None,
    headers: list[str] | None = None,
) -> ImportJob:
    """Confirm the mapping of a job waiting for it, keep it for the next file with the same
    ``headers`` (when given) and queue the job."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.MAPPING:
        raise ValidationError("This import is already checked; upload the file again to remap.")
    value_map, options = value_map or {}, options or {}
    problems = mapping_problems(
        kind=job.kind, column_map=column_map, value_map=value_map, options=options
    )
    if problems:
        raise ValidationError(problems)
    if headers:
        import_mapping_save(
            actor=actor,
            kind=job.kind,
            headers=headers,
            column_map=column_map,
            value_map=value_map,
            options=options,
        )
    job.column_map, job.value_map, job.options = column_map, value_map, options
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["column_map", "value_map", "options", "status", "updated_at"])
    _enqueue_on_commit(job)
    return job


def _runs_in_background_thread() -> bool:
    """Embedded mode (no broker: tasks run eagerly where they are sent) with background
    imports on: a 100,000-row file would otherwise hold the upload request for minutes."""
    from salesmgmt.celery import app

    return bool(app.conf.task_always_eager and settings.IMPORT_IN_BACKGROUND)


# Pauses before the thread runs a job again that stopped on a database error. Eager retries
# run at once, but on SQLite the request that queued the job may still be reading its row
# ("database table is locked"), so the thread waits as a worker's countdown would.
THREAD_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


def _run_in_thread(job_id: int) -> None:
    from . import tasks

    try:
        for delay in (*THREAD_RETRY_DELAYS, None):
            try:
                # The task itself, as a worker would run it.
                tasks.run_import.apply(args=[job_id], throw=True)
                return
            except Exception:
                finished = ImportJob.objects.filter(pk=job_id, finished_at__isnull=False)
                if delay is None or finished.exists():
                    raise
                connections.close_all()
                time.sleep(delay)
    except Exception:
        # The job records its own failure; anything else is left to the stalled-job sweep.
        logger.exception("Import job %s failed in the background", job_id)
    finally:
        connections.close_all()  # this thread's own connections


def start_in_background(job_id: int) -> threading.Thread:
    """Run the job in a thread of this process; the page and API poll its progress as they
    do with a worker. A daemon: a server stopping mid-import leaves the job running, and the
    sweep (``enqueue_stalled_jobs``) runs it again once ``RUNNING_STALE_AFTER`` has passed."""
    thread = threading.Thread(
        target=_run_in_thread, args=(job_id,), name=f"import-job-{job_id}", daemon=True
    )
    thread.start()
    return thread


def rerun_for_real(*, actor: User, job: ImportJob, in_session: bool = False) -> ImportJob:
    """After a clean dry run: the same file, imported for real, as a new job (with the
    credentials of this request, not the dry run's)."""
    if not job.dry_run or job.status != ImportJob.Status.SUCCEEDED:
        raise ValidationError("Only a dry run without errors can be imported for real.")
    return create_import_job(
        actor=actor,
        kind=job.kind,
        content=ImportJob.objects.get(pk=job.pk).content,
        file_name=job.file_name,
        dry_run=False,
        column_map=job.column_map,
        value_map=job.value_map,
        options=job.options,
        in_session=in_session,
    )


# Any constant: names "an import job's runner" among PostgreSQL advisory locks (with the job id).
JOB_LOCK_CLASS = 5_202_701


def _lock_job(job_id: int) -> bool:
    """Become the job's only runner; False if a live worker runs it (the sweep may send a
    job twice). A session lock: it goes with the connection of a worker that dies."""
    if connection.vendor != "postgresql":
        return True  # SQLite: one process runs tasks in-process
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id % 2**31])
        return bool(cursor.fetchone()[0])


def _unlock_job(job_id: int) -> None:
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_CLASS, job_id % 2**31]
                )
        except DatabaseFailure:
            pass  # the connection is gone, and the lock with it


def enqueue_stalled_jobs(*, now: dt.datetime | None = None) -> int:
    """Send again the jobs whose task never arrived; returns how many were sent."""
    from . import tasks

    now = now or timezone.now()
    ids = list(
        ImportJob.objects.filter(
            Q(status=ImportJob.Status.PENDING, updated_at__lt=now - STALLED_AFTER)
            | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - RUNNING_STALE_AFTER)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:100]
    )
    sent = 0
    for job_id in ids:
        if not enqueue(tasks.run_import, args=[job_id]):
            break  # still no broker: the next sweep tries again
        # Restart the clock: behind a long queue, one more copy per STALLED_AFTER at most.
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(updated_at=now)
        sent += 1
    return sent


def run_import_job(*, job_id: int) -> ImportJob | None:
    """Parse, check and apply (or dry-run) one job. Safe to run again: a finished job stays."""
    if not _lock_job(job_id):
        logger.info("Import job %s is running on another worker: skipped", job_id)
        return ImportJob.objects.filter(pk=job_id).first()
    try:
        # Read under the lock: a runner that held it may just have finished the job.
        job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.is_finished:
            return job
        return _run_locked(job)
    finally:
        _unlock_job(job_id)


def _run_locked(job: ImportJob) -> ImportJob:
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.rows_done = 0
    job.save(update_fields=["status", "started_at", "rows_done", "updated_at"])
    key = _progress_key(job.pk)
    cache.set(key, 0, PROGRESS_TTL)
    spec = specs.spec_for(job.kind)
    try:
        parsed = parsing.parse(
            job.content,
            spec,
            job.column_map,
            value_map=job.value_map,
            options=job.options,
            context=import_review_context(processes=_processes_named(job), viewer=job.created_by),
        )
        job.rows_total = parsed.rows_total
        job.save(update_fields=["rows_total", "updated_at"])
        # The rows and the job's outcome commit together: a connection lost in between can
        # never leave imported rows under a job that a retry would import again.
        # The placeholder account of rows without one (an option) is created by the deals
        # import like any new account, owned by its first deal's owner (never the importer,
        # who may be an administrator and own no accounts).
        with transaction.atomic():
            if parsed.records:
                result = apply.apply(
                    kind=job.kind,
                    actor=job.created_by,
                    in_session=job.created_in_session,
                    parsed=parsed,
                    dry_run=job.dry_run,
                    progress=lambda done: cache.set(key, done, PROGRESS_TTL),
                )
            else:
                result = apply.ApplyResult(errors=parsed.errors)
            errors = [e.as_dict() for e in result.errors]
            summary = {
                "created": result.created,
                "updated": result.updated,
                "ignored_columns": parsed.ignored_columns,
                **result.summary_extras(),
            }
            # Only when there are some: a file without gaps reads as before.
            if parsed.defaulted:
                summary["defaulted"] = parsed.defaulted
            if parsed.suspicious:
                summary["suspicious"] = parsed.suspicious
            if errors:
                summary.update(created=0, updated=0)
            return _finish(job, errors, summary, key)
    except OperationalError:
        # The database went away: nothing of this attempt stayed; the task retries the job.
        try:
            job.status = ImportJob.Status.PENDING
            job.save(update_fields=["status", "updated_at"])
        except DatabaseFailure:
            pass  # still away; its runner's lock went with the connection, so a retry may run it
        raise
    except ApplicationError as exc:
        errors, summary = [{"row": None, "column": "", "reason": exc.message}], {}
    except Exception:
        logger.exception("Import job %s crashed", job.pk)
        errors = [{"row": None, "column": "", "reason": "Unexpected error; nothing imported."}]
        summary = {}
    return _finish(job, errors, summary, key)


def _processes_named(job: ImportJob) -> set[str]:
    """The sales processes the file's rows name (none: the default process)."""
    if job.kind != ImportKind.OPPORTUNITIES:
        return set()
    return parsing.distinct_values(job.content, specs.spec_for(job.kind), job.column_map, "process")


def _finish(job: ImportJob, errors: list[dict], summary: dict, key: str) -> ImportJob:
    job.errors = errors
    # Every finished job has its problems grouped once here, not on each view of the page.
    job.summary = {**summary, **problem_summary(errors, job.rows_total)}
    job.rows_done = job.rows_total if not errors else cache.get(key, 0)
    job.status = ImportJob.Status.FAILED if errors else ImportJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "errors",
            "summary",
            "rows_total",
            "rows_done",
            "status",
            "finished_at",
            "updated_at",
        ]
    )
    cache.delete(key)
    return job
