"""Bulk writes of plain rows: INSERT (executemany on SQLite, COPY on PostgreSQL), ids reserved
ahead of an insert, and UPDATE of many rows by primary key.

For writers of tens of thousands of rows (the demo's history, the CSV import of deals):
building model instances and Django's per-value preparation cost several times what the
database itself spends. Values are given database-ready (``connection.ops.adapt_*`` for
datetimes); no signals, no ``full_clean``: the caller checks rows the way the services do.
"""

from __future__ import annotations

import csv
import gc
import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection
from django.db.models import CharField, Field, Model, TextField
from django.utils import timezone

BATCH_SIZE = 5000
# Rows of a COPY written to the server at a time (about 100-200 KB of CSV).
COPY_CHUNK_ROWS = 2000


def _fields(model: type[Model], names: list[str]) -> list[Field]:
    """The columns named (by field name or attname: ``owner`` or ``owner_id``)."""
    return [cast(Field, model._meta.get_field(name)) for name in names]


def insert_rows(model: type[Model], columns: list[str], rows: Sequence[tuple]) -> None:
    """INSERT plain tuples of database-ready values; other columns take their defaults.

    ``columns`` may name the primary key (ids from ``reserve_ids``).
    """
    if not rows:
        return
    ops = connection.ops
    rest, defaults = _defaults(model, columns)
    fields = _fields(model, columns) + rest
    if connection.vendor == "postgresql":
        copy = _copy_statement(model, fields)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(copy, _CsvStream(rows, defaults))
        return
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers only, from model metadata and quoted; every value is a parameter.
    table = ops.quote_name(model._meta.db_table)
    insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        # One statement, fed row by row (no copy of the rows with their defaults).
        cursor.executemany(insert, cast(Any, (r + defaults for r in rows)))


def _defaults(model: type[Model], columns: list[str]) -> tuple[list[Field], tuple]:
    """The columns not given, and their default values as the database stores them."""
    now = timezone.now()
    given = set(columns)
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given]
    defaults = tuple(
        f.get_db_prep_save(now if getattr(f, "auto_now", False) else f.get_default(), connection)
        for f in rest
    )
    return rest, defaults


def _copy_statement(model: type[Model], fields: list[Field]) -> str:
    """PostgreSQL's bulk path, several times faster than multi-row INSERTs. In CSV an
    unquoted empty field is NULL, so NOT NULL text columns are forced to "" instead."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    texts = ", ".join(
        quote(f.column) for f in fields if not f.null and isinstance(f, CharField | TextField)
    )
    force = f", FORCE_NOT_NULL ({texts})" if texts else ""
    return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN WITH (FORMAT csv{force})"


class _CsvStream:
    """The rows as CSV text, written a chunk at a time as COPY reads them: the server inserts
    the rows sent while the next chunk is written (no whole file in memory, no wait for it)."""

    def __init__(self, rows: Sequence[tuple], defaults: tuple) -> None:
        self._rows = rows
        self._defaults = defaults
        self._next = 0

    def read(self, size: int = -1) -> str:  # psycopg2 takes a chunk of any length
        first, self._next = self._next, self._next + COPY_CHUNK_ROWS
        if first >= len(self._rows):
            return ""
        buffer = io.StringIO()
        defaults = self._defaults
        csv.writer(buffer, lineterminator="\n").writerows(
            row + defaults for row in self._rows[first : self._next]
        )
        return buffer.getvalue()


Insert = tuple[type[Model], list[str], Sequence[tuple]]  # insert_rows' arguments


class BackgroundInserts:
    """Batches of inserts that PostgreSQL runs while the caller builds the next batch.

    ``add`` waits for the batch before, then COPYs the new one from a thread on the same
    connection (in the caller's transaction) and returns: the server inserts while Python
    builds rows, two cores instead of one. The caller must not use the database until
    ``wait`` (or the end of the ``with`` block), which also raises what the COPY raised.
    On SQLite ``add`` runs the inserts at once (one writer: nothing to overlap).
    """

    def __init__(self) -> None:
        self._background = connection.vendor == "postgresql"
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> BackgroundInserts:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wait()

    def add(self, inserts: list[Insert]) -> None:
        if not self._background:
            for model, columns, rows in inserts:
                insert_rows(model, columns, rows)
            return
        self.wait()
        copies = []  # built here: Django's connection belongs to this thread
        for model, columns, rows in inserts:
            if rows:
                rest, defaults = _defaults(model, columns)
                copy = _copy_statement(model, _fields(model, columns) + rest)
                copies.append((copy, _CsvStream(rows, defaults)))
        connection.ensure_connection()
        raw = connection.connection
        self._thread = threading.Thread(target=self._copy, args=(raw, copies), daemon=True)
        self._thread.start()

    def _copy(self, raw: Any, copies: list[tuple[str, _CsvStream]]) -> None:
        try:
            with raw.cursor() as cursor:
                for copy, stream in copies:
                    cursor.copy_expert(copy, stream)
        except BaseException as exc:  # raised again by wait(), in the caller's thread
            self._error = exc

    def wait(self) -> None:
        """Until the last batch is in; its error, if any, as Django's database error."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:
                raise error


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``'s table, taken from its sequence now (call inside
    the transaction that inserts them): rows inserted with them need no id read back.

    PostgreSQL: ``nextval`` of the column's sequence. SQLite: the AUTOINCREMENT counter in
    ``sqlite_sequence`` is moved on by ``count``; the UPDATE takes the database's write lock,
    so no other writer can take the same ids before this transaction ends.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            column = model._meta.pk.column
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq",
            [count, table],
        )
        found = cursor.fetchone()
        if found is None:  # nothing was ever inserted: the counter starts at the highest id
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608  # nosec B608
            first = cursor.fetchone()[0] + 1
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [table, first + count - 1],
            )
            return list(range(first, first + count))
        last = found[0]
        return list(range(last - count + 1, last + 1))


def update_rows(model: type[Model], columns: list[str], rows: Sequence[tuple]) -> None:
    """UPDATE rows by primary key: each row is ``(pk, *values)``, values database-ready and
    in ``columns`` order. One statement per batch on PostgreSQL (``UPDATE ... FROM (VALUES)``),
    ``executemany`` on SQLite."""
    if not rows or not columns:
        return
    ops = connection.ops
    meta = model._meta
    fields = _fields(model, columns)
    table = ops.quote_name(meta.db_table)
    pk_field = meta.pk
    pk = ops.quote_name(pk_field.column)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sets = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
            update = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608  # nosec B608
            cursor.executemany(update, cast(Any, ((*r[1:], r[0]) for r in rows)))
            return
        from psycopg2.extras import execute_values

        names = ["v_pk", *(f"v_{i}" for i in range(len(fields)))]
        # The VALUES list is untyped: each value is cast to its column's type.
        sets = ", ".join(
            f"{ops.quote_name(f.column)} = v.v_{i}::{f.db_type(connection)}"
            for i, f in enumerate(fields)
        )
        update = (
            f"UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v ({', '.join(names)}) "  # noqa: S608  # nosec B608
            f"WHERE t.{pk} = v.v_pk::{pk_field.db_type(connection)}"
        )
        execute_values(cursor.cursor, update, list(rows), page_size=BATCH_SIZE)


@contextmanager
def objects_kept_from_collection() -> Iterator[None]:
    """Keep the objects alive now out of Python's full garbage collections for the block.

    A bulk writer holds hundreds of thousands of objects that are not garbage while it runs
    (a file's parsed rows, the tuples it builds); every full collection the new tuples trigger
    scans all of them again: a fifth of a 100,000-deal import's CPU. ``gc.freeze`` moves them
    out of the collector's way until the block ends (new objects are collected as usual).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Memory for each index build after a bulk load: a sort of tens of millions of keys in a few
# passes rather than hundreds (the server default is 64 MB).
INDEX_BUILD_MEMORY = "512MB"


@contextmanager
def indexes_built_after(models: Sequence[type[Model]]) -> Iterator[None]:
    """Load ``models``' tables without their foreign keys and secondary indexes, then put them
    back exactly as they were (same names, same definitions) at the end of the block.

    Each row COPYed into a table with a dozen indexes (one a trigram GIN) updates every one of
    them, and each deferred foreign key queues a check run row by row at commit: at ten million
    rows that is most of the load. Built once at the end, an index is one sort and a foreign key
    one join that checks every row as the triggers would have. PostgreSQL only (a no-op on
    SQLite), inside the caller's transaction: the drops roll back with it if the block fails,
    and the block holds the tables' exclusive locks, so no reader sees them without indexes.
    """
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_built_after drops indexes: call it inside a transaction")
    tables = [model._meta.db_table for model in models]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        # Indexes that back no constraint (the primary keys and unique constraints stay: their
        # checks are wanted row by row and ids come in order, cheap to append). Partial indexes
        # stay too: PostgreSQL prints their predicate in a form that, run again, is stored
        # differently (an IN list's casts move), and they hold few of the rows anyway.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND indpred IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        # PostgreSQL alters no table with checks still queued (a --reset's deletes queue them on
        # the deals table): run them now. Every deferrable constraint of this schema is
        # INITIALLY DEFERRED, so ALL DEFERRED puts the transaction back as it was.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = %s", [INDEX_BUILD_MEMORY])
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("RESET maintenance_work_mem")
