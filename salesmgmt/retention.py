"""Deleting data that expires (the ``*_KEEP_DAYS`` settings), a batch per transaction.

A purge of months of notifications or captured mail in one transaction would hold its locks
and its WAL for minutes; a batch is one range of the table's ``created_at`` index, then a
delete by id, so each transaction stays small and a nightly run can stop anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

# Rows deleted per transaction; read when a purge runs (tests lower it).
PURGE_BATCH = 5000


def delete_oldest(expired: QuerySet, *, size: int | None = None) -> int:
    """Delete the oldest ``size`` (default PURGE_BATCH) rows of ``expired`` by ``created_at``;
    returns how many of its model went (cascades not counted). Call it in a transaction."""
    model = expired.model
    ids = list(expired.order_by("created_at").values_list("pk", flat=True)[: size or PURGE_BATCH])
    if not ids:
        return 0
    _, deleted = model.objects.filter(pk__in=ids).delete()
    return deleted.get(model._meta.label, 0)


def purge_in_batches(purge_batch: Callable[[], int]) -> int:
    """Run ``purge_batch`` (one transaction each) until a batch comes back short; returns the
    total. Idempotent: a re-run finds fewer."""
    total = 0
    while deleted := purge_batch():
        total += deleted
        if deleted < PURGE_BATCH:
            break
    return total
