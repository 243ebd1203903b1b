"""insert_rows: the generic bulk INSERT (executemany on SQLite, COPY on PostgreSQL)."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.db.models import CharField, Model, TextField
from django.utils import timezone

BATCH_SIZE = 5000
COPY_BATCH_SIZE = 50000


def insert_rows(model: type[Model], columns: list[str], rows: list[tuple]) -> None:
    """INSERT plain tuples of database-ready values; other columns take their defaults.

    The demo's millions of history rows skip model instances and Django's per-value
    preparation, which cost several times what the database itself spends. No signals, no
    ``full_clean``: the builder makes rows the way the services would.
    """
    if not rows:
        return
    ops = connection.ops
    now = timezone.now()
    given = set(columns)
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given]
    defaults = tuple(
        f.get_db_prep_save(now if getattr(f, "auto_now", False) else f.get_default(), connection)
        for f in rest
    )
    fields = [model._meta.get_field(name) for name in columns] + rest
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    table = ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(fields))
            # Identifiers only, from model metadata and quoted; every value is a parameter.
            insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608
            for first in range(0, len(rows), BATCH_SIZE):
                cursor.executemany(insert, [r + defaults for r in rows[first : first + BATCH_SIZE]])
            return
        # COPY is PostgreSQL's bulk path, several times faster than multi-row INSERTs. In CSV
        # an unquoted empty field is NULL, so NOT NULL text columns are forced to "" instead.
        texts = ", ".join(
            ops.quote_name(f.column)
            for f in fields
            if not f.null and isinstance(f, CharField | TextField)
        )
        force = f", FORCE_NOT_NULL ({texts})" if texts else ""
        copy = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv{force})"
        for first in range(0, len(rows), COPY_BATCH_SIZE):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(
                row + defaults for row in rows[first : first + COPY_BATCH_SIZE]
            )
            buffer.seek(0)
            cursor.cursor.copy_expert(copy, buffer)
