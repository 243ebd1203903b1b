"""Id lists split into batches, so no single query binds more parameters than SQLite allows.

SQLite refuses a statement with more than 32,766 bound parameters; applying the rules to a
large book (every account in one ``pk__in``) went past it. Writes and lookups keyed by many ids
go through ``in_batches``; PostgreSQL has no such limit but loses nothing by it either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Well below SQLite's limit, leaving room for the other parameters of the statement.
BATCH_SIZE = 1000


def in_batches(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (default BATCH_SIZE), in order."""
    size = size or BATCH_SIZE
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
