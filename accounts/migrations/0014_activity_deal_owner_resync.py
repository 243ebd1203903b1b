"""Copy each deal's owner onto its activities once more (``Activity.deal_owner``).

On SQLite a table rebuild after 0006 may have dropped the triggers, leaving copies stale;
from here on the services keep them. Only differing rows are written. Nothing to undo.
"""

from django.db import migrations

RESYNC = {
    "postgresql": [
        """
        UPDATE accounts_activity AS a SET deal_owner_id = o.owner_id
        FROM accounts_opportunity AS o
        WHERE o.id = a.opportunity_id AND a.deal_owner_id IS DISTINCT FROM o.owner_id
        """,
        """
        UPDATE accounts_activity SET deal_owner_id = NULL
        WHERE opportunity_id IS NULL AND deal_owner_id IS NOT NULL
        """,
    ],
}
# SQLite: a correlated subquery (NULL for activities without a deal); ``IS NOT`` is its
# null-safe comparison.
OWNER = (
    "(SELECT owner_id FROM accounts_opportunity"
    " WHERE accounts_opportunity.id = accounts_activity.opportunity_id)"
)
RESYNC["sqlite"] = [
    f"UPDATE accounts_activity SET deal_owner_id = {OWNER}"  # noqa: S608  # constant SQL
    f" WHERE deal_owner_id IS NOT {OWNER}"
]


def resync(apps, schema_editor):
    # Other databases never got past 0006, which supports only these two.
    for statement in RESYNC.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_activity_deal_owner_drop_triggers"),
    ]

    operations = [
        migrations.RunPython(resync, migrations.RunPython.noop),
    ]
