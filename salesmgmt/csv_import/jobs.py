"""Import jobs: create (and enqueue), run (called by the Celery task), and live progress."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from salesmgmt.errors import ApplicationError, PermissionDeniedError
from salesmgmt.models import ImportJob, ImportKind, User

from . import apply, parsing, specs

logger = logging.getLogger(__name__)
PROGRESS_TTL = 6 * 60 * 60


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def live_rows_done(job: ImportJob) -> int:
    """Rows processed so far: while running, from the cache (the rows are written in one
    transaction, so the row's own counter only moves at the end)."""
    if job.status == ImportJob.Status.RUNNING:
        return cache.get(_progress_key(job.pk), job.rows_done)
    return job.rows_done


def _decode(content: str | bytes) -> str:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": "Save the file as CSV in UTF-8."}) from None
    content = content.removeprefix("\ufeff")
    if "\x00" in content:
        raise ValidationError({"file": "This is not a text CSV file."})
    return content


@transaction.atomic
def create_import_job(
    *,
    actor: User,
    kind: str,
    content: str | bytes,
    file_name: str = "",
    dry_run: bool = True,
    column_map: dict[str, str] | None = None,
) -> ImportJob:
    """Store the file and enqueue ``run_import`` after commit (in-process without a broker)."""
    from salesmgmt import tasks

    if kind not in ImportKind.values:
        raise ValidationError({"kind": "Choose what the file contains."})
    if kind == ImportKind.USERS and not apply.can_import_users(actor):
        raise PermissionDeniedError("Only administrators and integrations import people.")
    size = len(content.encode() if isinstance(content, str) else content)
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {settings.IMPORT_MAX_BYTES // 2**20} MB."}
        )
    text = _decode(content)
    if not text.strip():
        raise ValidationError({"file": "The file is empty."})
    column_map = column_map or {}
    known = {c.name for c in specs.spec_for(kind).columns}
    unknown = sorted(set(column_map.values()) - known)
    if unknown:
        raise ValidationError({"column_map": f"Unknown columns: {', '.join(unknown)}."})
    job = ImportJob(
        kind=kind,
        created_by=actor,
        file_name=file_name[:255],
        content=text,
        dry_run=dry_run,
        column_map=column_map,
    )
    job.full_clean()
    job.save()

    def enqueue_after_commit() -> None:
        tasks.run_import.delay(job.pk)

    transaction.on_commit(enqueue_after_commit, robust=True)
    return job


def rerun_for_real(*, actor: User, job: ImportJob) -> ImportJob:
    """After a clean dry run: the same file, imported for real, as a new job."""
    if not job.dry_run or job.status != ImportJob.Status.SUCCEEDED:
        raise ValidationError("Only a dry run without errors can be imported for real.")
    return create_import_job(
        actor=actor,
        kind=job.kind,
        content=ImportJob.objects.get(pk=job.pk).content,
        file_name=job.file_name,
        dry_run=False,
        column_map=job.column_map,
    )


def run_import_job(*, job_id: int) -> ImportJob | None:
    """Parse, check and apply (or dry-run) one job. Safe to run again: a finished job stays."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.rows_done = 0
    job.save(update_fields=["status", "started_at", "rows_done", "updated_at"])
    key = _progress_key(job.pk)
    cache.set(key, 0, PROGRESS_TTL)
    spec = specs.spec_for(job.kind)
    try:
        parsed = parsing.parse(job.content, spec, job.column_map)
        job.rows_total = parsed.rows_total
        job.save(update_fields=["rows_total", "updated_at"])
        if parsed.records:
            result = apply.apply(
                kind=job.kind,
                actor=job.created_by,
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
        }
        if errors:
            summary.update(created=0, updated=0)
    except OperationalError:
        # The database went away: let the task retry the whole job from the start.
        job.status = ImportJob.Status.PENDING
        job.save(update_fields=["status", "updated_at"])
        raise
    except ApplicationError as exc:
        errors, summary = [{"row": None, "column": "", "reason": exc.message}], {}
    except Exception:
        logger.exception("Import job %s crashed", job.pk)
        errors = [{"row": None, "column": "", "reason": "Unexpected error; nothing imported."}]
        summary = {}
    job.errors = errors
    job.summary = summary
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
