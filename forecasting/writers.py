"""Bulk inserts of the aggregate tables: COPY on PostgreSQL, bulk_create elsewhere.

A full recompute writes tens of thousands of rows; building model instances and INSERTs for
them costs more than computing them. Rows arrive as tuples in ``fields`` order, already in
their stored form (money as Decimal cents, JSON as dicts, bytes for binary).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import Model

BATCH = 5000
COPY_CHARS = 16 * 2**20


def _csv_value(value: object) -> object:
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


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many."""
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=BATCH)
        return len(objects)
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
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
            writer.writerow([_csv_value(v) for v in row])
            count += 1
            # A COPY per few MB: a period's trial vectors in hex are hundreds of MB at once.
            if buffer.tell() >= COPY_CHARS:
                _copy(cursor, sql, buffer)
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            _copy(cursor, sql, buffer)
    return count


def _copy(cursor, sql: str, buffer: io.StringIO) -> None:
    buffer.seek(0)
    cursor.cursor.copy_expert(sql, buffer)
