"""Trigram indexes for the global search (accounts.selectors.search), PostgreSQL only.

``pg_trgm``'s GIN indexes make Django's ``icontains`` and ``istartswith`` (on PostgreSQL
``UPPER(col::text) LIKE UPPER(%s)``) an index scan on the searched columns: accounts' names,
contacts' names and e-mails (one multi-column index serves a condition on any of them),
deals' names and activities' notes. Each indexes ``UPPER(col::text)``, the expression those
lookups compare, so the planner can use it (an index on the bare column it could not). SQLite has no trigram
indexes: there the search scans, which is fine at its sizes, and this migration does nothing
(``TrigramExtension`` skips other databases itself). The indexes are not in the models'
``Meta.indexes`` because SQLite could not create them; Django's model state does not know
them, so ``makemigrations`` leaves them alone.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("search_account_name_trgm", "accounts_account", ("name",)),
    ("search_contact_trgm", "accounts_contact", ("first_name", "last_name", "email")),
    ("search_opportunity_name_trgm", "accounts_opportunity", ("name",)),
    ("search_activity_notes_trgm", "accounts_activity", ("notes",)),
]


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, columns in INDEXES:
        opclasses = ", ".join(f'UPPER("{column}"::text) gin_trgm_ops' for column in columns)
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({opclasses});'
        )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}";')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0016_history_deal_indexes_covered_by_composites"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(_create, _drop, elidable=False),
    ]
