"""Every row lock of the forecasting app, taken in primary-key order."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import F, Q

from .models import KpiRequest, RecomputeRequest, RecomputeRun

# Any constant works; it names "the incremental recompute claim" among advisory locks.
CLAIM_LOCK_KEY = 5_202_605
KPI_LOCK_KEY = 5_202_606
FULL_RUN_LOCK_KEY = 5_202_607
KPI_CLAIM_LOCK_KEY = 5_202_608


def claim_recompute_requests(*, now: dt.datetime, stale_before: dt.datetime) -> list[int]:
    """Mark the pending requests started and return their ids — unless a batch is in flight.

    Serializing batches is what keeps "at most one recompute per node in flight": a batch
    rewrites its people's rows and every subtree row above them, and two batches would share
    ancestors. On PostgreSQL an advisory lock makes the check-and-claim atomic across workers
    and SKIP LOCKED leaves rows another transaction holds; SQLite serializes writers anyway.
    """
    with transaction.atomic():
        is_postgres = connection.vendor == "postgresql"
        if is_postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
        in_flight = RecomputeRequest.objects.filter(
            started_at__isnull=False, finished_at__isnull=True, started_at__gt=stale_before
        )
        if in_flight.exists():
            return []
        pending = RecomputeRequest.objects.filter(
            started_at__isnull=True, requested_at__lte=now
        ).order_by("pk")
        if is_postgres:
            pending = pending.select_for_update(skip_locked=True)
        ids = list(pending.values_list("pk", flat=True))
        RecomputeRequest.objects.filter(pk__in=ids).update(
            started_at=now, attempts=F("attempts") + 1
        )
        return ids


def claim_kpi_requests(
    *, now: dt.datetime, due_before: dt.datetime, stale_before: dt.datetime
) -> list[int]:
    """Mark every pending KPI request started and return their ids, once the oldest is due.

    Nothing is claimed while a KPI batch is in flight or before the oldest pending row has
    waited ``due_before`` (the debounce window): so KPIs run at most once per window, over
    everything that piled up in it. The advisory lock makes the check-and-claim atomic.
    """
    with transaction.atomic():
        is_postgres = connection.vendor == "postgresql"
        if is_postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KPI_CLAIM_LOCK_KEY])
        in_flight = KpiRequest.objects.filter(
            started_at__isnull=False, finished_at__isnull=True, started_at__gt=stale_before
        )
        pending = KpiRequest.objects.filter(started_at__isnull=True, requested_at__lte=now)
        if in_flight.exists() or not pending.filter(requested_at__lte=due_before).exists():
            return []
        pending = pending.order_by("pk")
        if is_postgres:
            pending = pending.select_for_update(skip_locked=True)
        ids = list(pending.values_list("pk", flat=True))
        KpiRequest.objects.filter(pk__in=ids).update(started_at=now, attempts=F("attempts") + 1)
        return ids


def lock_kpi_writes() -> None:
    """Serialize KPI rewrites (delete + insert of the same rows) until the transaction ends.

    Incremental KPI tasks for overlapping subtrees may run on two workers at once; on
    PostgreSQL a transaction-level advisory lock makes the second wait instead of colliding
    on the unique (person, period, scope) rows. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KPI_LOCK_KEY])


def lock_full_run_start() -> None:
    """Serialize "is a full recompute unfinished? else create one" until the transaction ends.

    Two callers (the nightly beat and an admin's command, say) would otherwise both see none
    and start two runs over the same rows. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FULL_RUN_LOCK_KEY])


def claim_recompute_run(
    *, run_id: int, lease: str, now: dt.datetime, stale_before: dt.datetime
) -> bool:
    """Take the run's lease if it is unfinished and nobody holds a live one; True if taken.

    One conditional UPDATE, so of two workers racing for the same run exactly one matches:
    a live lease (heartbeat newer than ``stale_before``) is never taken over.
    """
    claimed = (
        RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before))
        .update(
            status=RecomputeRun.Status.RUNNING,
            lease=lease,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return claimed == 1
