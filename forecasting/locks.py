"""Every row lock of the forecasting app, taken in primary-key order."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q

from .models import RecomputeRun, RecomputeShard

# Any constants work; they name these locks among advisory locks.
KPI_LOCK_KEY = 5_202_606
FULL_RUN_LOCK_KEY = 5_202_607


def lock_kpi_writes() -> None:
    """Serialize KPI rewrites (delete + insert of the same rows) until the transaction ends.

    Incremental KPI tasks for overlapping subtrees may run on two workers at once; on
    PostgreSQL a transaction-level advisory lock makes the second wait instead of colliding
    on the unique (person, period, scope) rows. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KPI_LOCK_KEY])


# The first half of the two-key advisory lock of a period's rollup rows (the second: its id).
PERIOD_ROLLUPS_LOCK_KEY = 5_202_608


def lock_period_rollups(period_id: int) -> None:
    """Serialize rewrites of one period's rollup rows until the transaction ends.

    Each writer deletes the rows it replaces and inserts the new ones: a full run's shard
    (everyone's), an edit's batch (a chain's), or the same shard twice when a worker that
    looked dead was still running it. Two at once collide on the unique rows (the second's
    delete cannot see the first's uncommitted inserts); with this lock the second waits and
    then deletes what the first wrote. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [PERIOD_ROLLUPS_LOCK_KEY, period_id]
            )


def lock_full_run_start() -> None:
    """Serialize "is a full recompute unfinished? else create one" until the transaction ends.

    Two callers (the nightly beat and an admin's command, say) would otherwise both see none
    and start two runs over the same rows. SQLite serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FULL_RUN_LOCK_KEY])


def quiet_run(stale_before: dt.datetime) -> Q:
    """A run nobody has beaten for since ``stale_before``: neither the run's own heartbeat nor
    that of a shard of it still running. A live shard renews both, yet a run was once seen
    stale at 1 M deals while its workers were still in their shards."""
    live_shard = RecomputeShard.objects.filter(
        run=OuterRef("pk"), state=RecomputeShard.State.RUNNING, heartbeat_at__gte=stale_before
    )
    return (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before)) & ~Exists(live_shard)


def claim_recompute_run(
    *, run_id: int, lease: str, now: dt.datetime, stale_before: dt.datetime
) -> bool:
    """Take the run's lease if it is unfinished and nobody holds a live one; True if taken.

    One conditional UPDATE, so of two workers racing for the same run exactly one matches:
    a live lease (heartbeat newer than ``stale_before``) is never taken over, nor a run one of
    whose shards still beats (``quiet_run``).
    """
    claimed = (
        RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED)
        .filter(quiet_run(stale_before))
        .update(
            status=RecomputeRun.Status.RUNNING,
            lease=lease,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return claimed == 1


def claim_recompute_shard(
    *, shard_id: int, lease: str, worker: str, now: dt.datetime, stale_before: dt.datetime
) -> bool:
    """Take a shard of a full run if it is pending, or running for a worker that went quiet.

    One conditional UPDATE, like the run's: of two workers handed the same shard (a message
    sent twice, a resumed run) exactly one matches, and a live shard is never taken over.
    """
    waiting = Q(state=RecomputeShard.State.PENDING) | (
        Q(state=RecomputeShard.State.RUNNING)
        & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before))
    )
    claimed = (
        RecomputeShard.objects.filter(pk=shard_id, run__status__in=RecomputeRun.UNFINISHED)
        .filter(waiting)
        .update(
            state=RecomputeShard.State.RUNNING,
            lease=lease,
            worker=worker[:120],
            heartbeat_at=now,
            started_at=now,
            finished_at=None,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return claimed == 1
