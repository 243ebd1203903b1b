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

from django.db import connection
from django.db.models import Model

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


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many."""
    if connection.vendor != "postgresql":
        objects = [
            model(**{name: _python_value(v) for name, v in zip(fields, row, strict=True)})
            for row in rows
        ]
        model.objects.bulk_create(objects, batch_size=BATCH)
        return len(objects)
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    encoders = _binary_encoders(model, fields)
    if encoders is not None:
        return _insert_binary(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN", encoders, rows)
    nullable = ", ".join(
        quote(meta.get_field(name).column) for name in fields if meta.get_field(name).null
    )
    options = "FORMAT csv" + (f", FORCE_NULL ({nullable})" if nullable else "")
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN WITH ({options})"
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
