"""``Activity.deal_owner`` is kept by the services, no longer by the triggers of 0006.

SQLite drops a table's triggers whenever Django rebuilds it, silently, so the copy could go
stale after any later schema change; the services (``accounts.services``: logging or editing
an activity, reassigning a deal) now write it in their own transaction, and ``verify_figures
--only activities`` reports any activity whose copy differs from its deal's owner. Reversing
creates the triggers of 0006 again.
"""

from importlib import import_module

from django.db import migrations

INITIAL = import_module("accounts.migrations.0006_activity_deal_owner")

DROP = {
    "postgresql": INITIAL.POSTGRESQL_BACKWARD,
    "sqlite": INITIAL.SQLITE_BACKWARD,
}
# 0006's statements without its first one (the copy of every owner, which 0014 makes now).
CREATE = {
    "postgresql": INITIAL.POSTGRESQL_FORWARD[1:],
    "sqlite": INITIAL.SQLITE_FORWARD[1:],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        # Other databases never had the triggers (0006 refused them).
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_contact_activity_external_id_unique"),
    ]

    operations = [
        migrations.RunPython(_run(DROP), _run(CREATE)),
    ]
