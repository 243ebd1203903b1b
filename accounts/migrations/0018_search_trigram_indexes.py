"""Trigram indexes for the global search (accounts.selectors.search), PostgreSQL only.

``pg_trgm``'s GIN indexes make Django's ``icontains`` and ``istartswith`` (on PostgreSQL
``UPPER(col::text) LIKE UPPER(%s)``) an index scan on the searched columns: accounts' names,
contacts' names and e-mails (one multi-column index serves a condition on any of them),
deals' names and activities' notes. Each indexes ``UPPER(col::text)``, the expression those
lookups compare, so the planner can use it (an index on the bare column it could not).
SQLite has no trigram indexes: there the search scans, which is fine at its sizes, and this
migration does nothing, forwards or backwards. The indexes are not in the models'
``Meta.indexes`` because SQLite could not create them; Django's model state does not know
them, so ``makemigrations`` leaves them alone.
"""

from django.db import migrations

INDEXES = [
    ("search_account_name_trgm", "accounts_account", ("name",)),
    ("search_contact_trgm", "accounts_contact", ("first_name", "last_name", "email")),
    ("search_opportunity_name_trgm", "accounts_opportunity", ("name",)),
    ("search_activity_notes_trgm", "accounts_activity", ("notes",)),
]
# Prefix matches (``istartswith``: ``UPPER(col::text) LIKE 'Q%'``): the ones the search
# always ranks, and two-letter words. A B-tree range finds exactly them, where the trigram
# index returns every row holding the word anywhere for a recheck (or, for two letters,
# cannot help at all).
PREFIX_INDEXES = [
    ("search_account_name_prefix", "accounts_account", "name"),
    ("search_contact_first_name_prefix", "accounts_contact", "first_name"),
    ("search_contact_last_name_prefix", "accounts_contact", "last_name"),
    ("search_contact_email_prefix", "accounts_contact", "email"),
    ("search_opportunity_name_prefix", "accounts_opportunity", "name"),
]


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Not Django's TrigramExtension operation: its reverse queries pg_extension on SQLite too.
    # Unapplying leaves the extension (other schemas may use it).
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    for name, table, columns in INDEXES:
        opclasses = ", ".join(f'UPPER("{column}"::text) gin_trgm_ops' for column in columns)
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({opclasses});'
        )
    for name, table, column in PREFIX_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'(UPPER("{column}"::text) text_pattern_ops);'
        )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in INDEXES + PREFIX_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}";')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_history_indexes_where_needed"),
    ]

    operations = [
        migrations.RunPython(_create, _drop, elidable=False),
    ]
