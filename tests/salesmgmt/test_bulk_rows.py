"""salesmgmt.bulk_rows: plain-row inserts (COPY on PostgreSQL, executemany on SQLite) and the
background inserts of the deals import. Run on both databases (DATABASE_URL for PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Activity, OpportunityChange
from salesmgmt.bulk_rows import (
    BackgroundInserts,
    indexes_built_after,
    insert_rows,
    reserve_ids,
)
from tests.factories import OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "opportunity_id", "field", "old_value", "new_value", "changed_by_id", "changed_at"]
WHEN = dt.datetime(2023, 3, 5, 9, 30, tzinfo=dt.UTC)


def _stored(moment: dt.datetime) -> str:
    return str(connection.ops.adapt_datetimefield_value(moment))


def _rows(deal_id: int, count: int, by: int | None = None) -> list[tuple]:
    ids = reserve_ids(OpportunityChange, count)
    return [(pk, deal_id, "stage", "", f"{n}", by, _stored(WHEN)) for n, pk in enumerate(ids)]


def test_insert_rows_keeps_awkward_text_empty_strings_and_nulls():
    # Given text that CSV must quote (commas, quotes, a line break, a backslash), an empty
    # value in a NOT NULL column and no author (NULL)
    deal, author = OpportunityFactory(), UserFactory()
    awkward = 'Smith, "Jr."\nsecond line \\ end'
    [first, second] = reserve_ids(OpportunityChange, 2)
    rows = [
        (first, deal.pk, "owner", "", awkward, author.pk, _stored(WHEN)),
        (second, deal.pk, "stage", "é, ü", "", None, _stored(WHEN + dt.timedelta(days=1))),
    ]

    insert_rows(OpportunityChange, COLUMNS, rows)

    # Then each value comes back as given: "" stays "" (not NULL), None is NULL
    one, two = OpportunityChange.objects.filter(pk__in=[first, second]).order_by("pk")
    assert (one.old_value, one.new_value, one.changed_by_id) == ("", awkward, author.pk)
    assert (two.old_value, two.new_value, two.changed_by_id) == ("é, ü", "", None)
    assert two.changed_at == WHEN + dt.timedelta(days=1)


def test_background_inserts_write_every_batch_by_the_end_of_the_block():
    deal = OpportunityFactory()
    batches = [_rows(deal.pk, size) for size in (3, 0, 2500, 1)]

    with BackgroundInserts() as inserts:
        for rows in batches:
            inserts.add([(OpportunityChange, COLUMNS, rows)])

    written = set(OpportunityChange.objects.filter(opportunity=deal).values_list("pk", flat=True))
    assert written == {row[0] for rows in batches for row in rows}


def test_background_inserts_are_in_the_callers_transaction():
    # Given rows written in the background inside a block that is then rolled back
    deal = OpportunityFactory()

    rows = _rows(deal.pk, 50)

    def write_then_fail() -> None:
        with transaction.atomic():
            with BackgroundInserts() as inserts:
                inserts.add([(OpportunityChange, COLUMNS, rows)])
            raise LookupError("after the inserts")

    with pytest.raises(LookupError):
        write_then_fail()

    # Then none of them stays
    assert not OpportunityChange.objects.filter(opportunity=deal).exists()


def test_background_inserts_raise_the_databases_error_in_the_caller():
    # Given a batch whose rows repeat a primary key
    deal = OpportunityFactory()
    rows = _rows(deal.pk, 3)
    rows.append(rows[0])

    # Then the block raises Django's IntegrityError (not the driver's), here, and nothing stays
    with pytest.raises(IntegrityError), transaction.atomic(), BackgroundInserts() as inserts:
        inserts.add([(OpportunityChange, COLUMNS, rows)])
    assert not OpportunityChange.objects.filter(opportunity=deal).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the background COPY is PostgreSQL's path"
)
def test_background_inserts_return_before_the_copy_on_postgresql():
    deal = OpportunityFactory()
    inserts = BackgroundInserts()

    inserts.add([(OpportunityChange, COLUMNS, _rows(deal.pk, 20))])

    assert inserts._thread is not None  # the COPY runs while the caller goes on
    inserts.wait()
    assert inserts._thread is None
    assert OpportunityChange.objects.filter(opportunity=deal).count() == 20


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="indexes are dropped and rebuilt on PostgreSQL"
)


def _schema(tables: list[str]) -> tuple[list, list]:
    """Every index and constraint of ``tables``: name and definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, condeferrable, condeferred,"
            " pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [tables],
        )
        return indexes, cursor.fetchall()


@on_postgresql
def test_indexes_built_after_puts_back_every_index_and_foreign_key_as_it_was():
    # Given the history tables' indexes and constraints
    tables = [OpportunityChange._meta.db_table, Activity._meta.db_table]
    before = _schema(tables)
    deal = OpportunityFactory()

    with transaction.atomic(), indexes_built_after([OpportunityChange, Activity]):
        # While loading: only the primary keys', the partial indexes and the CHECK constraints
        during_indexes, during_constraints = _schema(tables)
        insert_rows(OpportunityChange, COLUMNS, _rows(deal.pk, 30))

    assert {name for name, definition in during_indexes if " WHERE " not in definition} == {
        f"{table}_pkey" for table in tables
    }
    assert {kind for *_, kind, _, _, _ in during_constraints} == {"p", "c"}
    # Then the same indexes and constraints, named and defined the same, over the rows loaded
    assert _schema(tables) == before
    assert OpportunityChange.objects.filter(opportunity=deal).count() == 30


@on_postgresql
def test_indexes_built_after_refuses_a_row_whose_parent_is_missing():
    # Given a change row loaded for a deal that does not exist
    deal = OpportunityFactory()
    rows = _rows(deal.pk, 2)
    orphan = (rows[1][0], deal.pk + 10_000, *rows[1][2:])

    # Then putting the foreign key back checks it, and the load rolls back
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        indexes_built_after([OpportunityChange]),
    ):
        insert_rows(OpportunityChange, COLUMNS, [rows[0], orphan])
    assert not OpportunityChange.objects.filter(opportunity=deal).exists()
    assert _schema([OpportunityChange._meta.db_table])[0]  # the indexes are back (rolled back)


@on_postgresql
def test_indexes_built_after_runs_the_checks_queued_before_it():
    # Given a transaction that already queued deferred foreign-key checks on the table
    deal = OpportunityFactory()
    with transaction.atomic():
        insert_rows(OpportunityChange, COLUMNS, _rows(deal.pk, 2))
        # Then the block can still alter the table (PostgreSQL refuses while checks are queued)
        with indexes_built_after([OpportunityChange]):
            insert_rows(OpportunityChange, COLUMNS, _rows(deal.pk, 3))

    assert OpportunityChange.objects.filter(opportunity=deal).count() == 5
