"""Bulk inserts of the aggregate tables: COPY on PostgreSQL, bulk_create elsewhere.

A full recompute writes tens of thousands of rows; building model instances and INSERTs for
them costs more than computing them. Rows arrive as tuples in ``fields`` order, already in
their stored form (money as Decimal cents, JSON as dicts or ``JsonText``, bytes for binary).

Rows whose every column is an integer, float, timestamp or bytes (the trial vectors) go in
as binary COPY: a period's vectors are 150-200 MB at 1 M deals, which as CSV hex took 4 s of
Python and 5-9 s of the server's parsing per period, as binary 0.2 s and about 1 s.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import struct
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import cast

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Field, Model, QuerySet

BATCH = 5000
COPY_CHARS = 16 * 2**20


PLAIN_TYPES = (int, float, str)  # written as they are; by exact type: a bool is not plain


class JsonText(str):
    """A JSON column's value already serialised (``json.dumps``' text): a KPI shard makes
    the text of hundreds of thousands of maps at once (``analytics.kpis.json_objects``)."""


AS_THEY_ARE = frozenset({int, float, str, JsonText})


def _csv_value(value: object) -> object:
    kind = type(value)  # the kinds of most values of a rollup row first
    if kind in PLAIN_TYPES or kind is JsonText:
        return value
    if kind is Decimal:
        return str(value)
    if value is None:
        return ""  # NULL through FORCE_NULL (only nullable columns ever get one)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | Decimal):
        return str(value)
    return value


def _python_value(value: object) -> object:
    return json.loads(value) if type(value) is JsonText else value


def insert_rows(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence], *, table: str | None = None
) -> int:
    """Insert ``rows`` into ``model``'s table (``table``: into that one, with the same columns;
    PostgreSQL only); returns how many."""
    if connection.vendor != "postgresql":
        objects = [
            model(**{name: _python_value(v) for name, v in zip(fields, row, strict=True)})
            for row in rows
        ]
        model.objects.bulk_create(objects, batch_size=BATCH)
        return len(objects)
    meta = model._meta
    quote = connection.ops.quote_name
    target = quote(table or meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    encoders = _binary_encoders(model, fields)
    if encoders is not None:
        return _insert_binary(f"COPY {target} ({columns}) FROM STDIN", encoders, rows)
    nullable = ", ".join(
        quote(meta.get_field(name).column) for name in fields if meta.get_field(name).null
    )
    options = "FORMAT csv" + (f", FORCE_NULL ({nullable})" if nullable else "")
    sql = f"COPY {target} ({columns}) FROM STDIN WITH ({options})"
    count = 0
    with connection.cursor() as cursor:
        buffer = io.StringIO()
        # Strings are quoted; a nullable column's "" is read as NULL (FORCE_NULL), any other
        # column's "" stays an empty string.
        writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        for row in rows:
            # The plain values (most of a row) by an inline check, not a call each.
            writer.writerow([v if type(v) in AS_THEY_ARE else _csv_value(v) for v in row])
            count += 1
            # A COPY per few MB: a period's trial vectors in hex are hundreds of MB at once.
            if buffer.tell() >= COPY_CHARS:
                _copy(cursor, sql, buffer)
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            _copy(cursor, sql, buffer)
    return count


STAGING = "staged_rows"


@transaction.atomic
def replace_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    unique: str,
    scope: QuerySet,
) -> int:
    """Make ``scope``'s rows, and those whose ``unique`` field holds a value of ``rows``, exactly
    ``rows``: the others of ``scope`` are deleted, a row whose ``unique`` value is stored is
    updated where a field differs, the rest inserted. Returns how many rows were given.

    On PostgreSQL through a temporary table: a quarter's deal scores (a hundred thousand rows
    at 1 M deals) were all deleted and inserted again each run, each insert entering five
    indexes and checking three foreign keys; an update of a row whose keys stay leaves its
    indexes and checks alone. Elsewhere the rows are deleted and inserted.
    """
    meta = model._meta
    if connection.vendor != "postgresql":
        rows = list(rows)
        keys = [row[list(fields).index(unique)] for row in rows]
        scope.delete()
        for start in range(0, len(keys), BATCH):
            model._default_manager.filter(**{f"{unique}__in": keys[start : start + BATCH]}).delete()
        return insert_rows(model, fields, rows)
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(_column(model, unique))
    columns = [quote(_column(model, name)) for name in fields]
    listed = ", ".join(columns)
    try:
        scoped, params = scope.values("pk").query.sql_with_params()
    except EmptyResultSet:  # a scope of nobody (``owner_id__in=[]``): no row to delete
        scoped, params = "", ()
    pk = quote(meta.pk.column)
    # Every name below is a model's quoted table or column, never a value: values go as params.
    changed = [c for c in columns if c != key]
    create = f"CREATE TEMPORARY TABLE {STAGING} ON COMMIT DROP AS SELECT {listed} FROM {table}"  # noqa: S608  # nosec B608
    delete = (
        f"DELETE FROM {table} WHERE {pk} IN ({scoped}) AND NOT EXISTS "  # noqa: S608  # nosec B608
        f"(SELECT 1 FROM {STAGING} s WHERE s.{key} = {table}.{key})"
    )
    assign = ", ".join(f"{c} = EXCLUDED.{c}" for c in changed)
    stored = ", ".join(f"{table}.{c}" for c in changed)
    given = ", ".join(f"EXCLUDED.{c}" for c in changed)
    upsert = (
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGING} "  # noqa: S608  # nosec B608
        f"ON CONFLICT ({key}) DO UPDATE SET {assign} WHERE ({stored}) IS DISTINCT FROM ({given})"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")
        cursor.execute(f"{create} WITH NO DATA")
        count = insert_rows(model, fields, rows, table=STAGING)
        cursor.execute(f"ANALYZE {STAGING}")
        if scoped:
            cursor.execute(delete, params)
        cursor.execute(upsert)
        cursor.execute(f"DROP TABLE {STAGING}")
    return count


def _column(model: type[Model], name: str) -> str:
    """The database column of a concrete field of ``model``."""
    return cast(Field, model._meta.get_field(name)).column


def _copy(cursor, sql: str, buffer: io.StringIO | io.BytesIO) -> None:
    buffer.seek(0)
    cursor.cursor.copy_expert(sql, buffer)


# PostgreSQL's binary COPY: a header, then per row the field count and each field as its
# length and its value in network byte order (timestamps as microseconds since 2000-01-01).
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
Encoder = Callable[[object], bytes]


def _packer(fmt: str) -> Encoder:
    packer = struct.Struct("!i" + fmt)
    return lambda value: packer.pack(packer.size - 4, value)


def _bytes(value: object) -> bytes:
    blob = bytes(value)  # type: ignore[call-overload]
    return struct.pack("!i", len(blob)) + blob


def _timestamp(value: object) -> bytes:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise TypeError(f"an aware datetime, not {value!r}")
    delta = value - PG_EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return struct.pack("!iq", 8, micros)


BINARY_TYPES: dict[str, Encoder] = {
    "bigint": _packer("q"),
    "integer": _packer("i"),
    "smallint": _packer("h"),
    "double precision": _packer("d"),
    "bytea": _bytes,
    "timestamp with time zone": _timestamp,
}


def _binary_encoders(model: type[Model], fields: Sequence[str]) -> list[Encoder] | None:
    """Each field's binary COPY encoder, or None when a column is of another type."""
    encoders = []
    for name in fields:
        field = model._meta.get_field(name)
        encoder = BINARY_TYPES.get(str(field.db_type(connection)).split(" CHECK")[0])
        if encoder is None or field.null:  # NULLs go by CSV: none of ours is nullable
            return None
        encoders.append(encoder)
    return encoders


def _insert_binary(sql: str, encoders: list[Encoder], rows: Iterable[Sequence]) -> int:
    count = 0
    field_count = struct.pack("!h", len(encoders))
    with connection.cursor() as cursor:
        buffer = io.BytesIO()
        buffer.write(COPY_HEADER)
        for row in rows:
            buffer.write(field_count)
            for encode, value in zip(encoders, row, strict=True):
                buffer.write(encode(value))
            count += 1
            if buffer.tell() >= COPY_CHARS:  # a COPY per few MB, each a complete stream
                buffer.write(COPY_TRAILER)
                _copy(cursor, f"{sql} WITH (FORMAT binary)", buffer)
                buffer.seek(0)
                buffer.truncate()
                buffer.write(COPY_HEADER)
        if count and buffer.tell() > len(COPY_HEADER):
            buffer.write(COPY_TRAILER)
            _copy(cursor, f"{sql} WITH (FORMAT binary)", buffer)
    return count
