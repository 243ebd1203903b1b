"""Running the stale marks of a kind: claim a batch, recompute, delete the marks.

One batch of a kind is in flight at a time (a batch rewrites rows another would share, such
as a manager's subtree row): a claim finds the kind's in-flight marks and claims nothing.
A claimed mark whose batch never finished (worker killed, message lost) is claimed again
once it is older than ``STALE_AFTER``; running a batch twice rewrites the same rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zlib

from django.db import connection, transaction
from django.db.models import F, Min
from django.utils import timezone

from .registry import Key, kind_get, kind_names

logger = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=10)
# Attempts after which a failing batch is logged as an error (it is still retried).
WARN_AFTER_ATTEMPTS = 3


def _lock_kind(kind: str) -> None:
    """Serialize claims of one kind across workers (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"refresh:{kind}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _claim(*, kind: str, now: dt.datetime) -> tuple[list[int], list[Key]]:
    """Claim every due mark of ``kind``, unless one of its batches is in flight."""
    from ..models import StaleMark

    debounce = dt.timedelta(seconds=kind_get(kind).debounce_seconds())
    stale_before = now - STALE_AFTER
    with transaction.atomic():
        _lock_kind(kind)
        marks = StaleMark.objects.filter(kind=kind)
        if marks.filter(started_at__gt=stale_before).exists():
            return [], []
        pending = marks.filter(started_at__isnull=True)
        oldest = pending.aggregate(oldest=Min("requested_at"))["oldest"]
        abandoned = marks.filter(started_at__lte=stale_before)
        due = oldest is not None and oldest <= now - debounce
        if not due and not abandoned.exists():
            return [], []
        claimable = marks.filter(started_at__lte=stale_before)
        if due:
            claimable = marks.exclude(started_at__gt=stale_before)
        rows = list(claimable.values_list("pk", "person_key", "period_key"))
        ids = [pk for pk, _, _ in rows]
        StaleMark.objects.filter(pk__in=ids).update(started_at=now, attempts=F("attempts") + 1)
    keys = sorted({(person, period) for _, person, period in rows})
    return ids, keys


def _release(*, kind: str, ids: list[int]) -> None:
    """Give a failed batch's marks back as pending (merged with any pending twin)."""
    from ..models import StaleMark

    with transaction.atomic():
        _lock_kind(kind)
        claimed = StaleMark.objects.filter(pk__in=ids)
        twins = set(
            StaleMark.objects.filter(kind=kind, started_at__isnull=True).values_list(
                "person_key", "period_key"
            )
        )
        rows = claimed.values_list("pk", "person_key", "period_key")
        duplicate = [pk for pk, person, period in rows if (person, period) in twins]
        StaleMark.objects.filter(pk__in=duplicate).delete()
        claimed.exclude(pk__in=duplicate).update(started_at=None)


def refresh_kind(*, kind: str, now: dt.datetime | None = None) -> int:
    """Claim and run one batch of ``kind``; returns the keys refreshed (0: nothing due)."""
    from ..models import StaleMark

    aggregate = kind_get(kind)
    ids, keys = _claim(kind=kind, now=now or timezone.now())
    if not ids:
        return 0
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        aggregate.refresh(keys)
    except Exception:
        tries = StaleMark.objects.filter(pk__in=ids).values_list("attempts", flat=True)
        attempts = max(tries, default=0)
        log = logger.error if attempts >= WARN_AFTER_ATTEMPTS else logger.warning
        log("refresh %s: a batch of %s keys failed (attempt %s)", kind, len(keys), attempts)
        _release(kind=kind, ids=ids)
        raise
    StaleMark.objects.filter(pk__in=ids).delete()
    # Each batch's cost, by kind: what the worker spends its CPU on under load.
    logger.info(
        "refresh %s: %s keys in %.3f s (%.3f s CPU)",
        kind,
        len(keys),
        time.perf_counter() - started,
        time.process_time() - cpu_started,
    )
    return len(keys)


def has_pending(*, kind: str) -> bool:
    """Marks written while a batch ran wait for the next batch (the task sends it)."""
    from ..models import StaleMark

    return StaleMark.objects.filter(kind=kind, started_at__isnull=True).exists()


def refresh_due(*, kinds: list[str] | None = None) -> dict[str, int]:
    """Run one batch of every kind with due or abandoned marks (the sweep; also tests)."""
    return {name: refresh_kind(kind=name) for name in (kinds or kind_names())}


def refresh_sweep() -> dict[str, int]:
    """The periodic catch-all: batches a lost message or a killed worker left behind."""
    done = refresh_due()
    ran = {name: n for name, n in done.items() if n}
    if ran:
        logger.info("refresh sweep: %s", ran)
    return done
