"""Every row lock of the forecasting app, taken in primary-key order."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import F

from .models import RecomputeRequest

# Any constant works; it names "the incremental recompute claim" among advisory locks.
CLAIM_LOCK_KEY = 5_202_605
KPI_LOCK_KEY = 5_202_606


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


def lock_kpi_writes() -> None:
    """Serialize KPI rewrites (delete + insert of the same rows) until the transaction ends.

    Incremental KPI tasks for overlapping subtrees may run on two workers at once; on
    PostgreSQL a transaction-level advisory lock makes the second wait instead of colliding
    on the unique (person, period, scope) rows. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KPI_LOCK_KEY])
