# Activity.deal_owner: the deal's owner, copied onto its activities for the visibility of long
# lists, and kept by triggers so no write path (services, admin, bulk loads, raw SQL) can
# leave it stale:
# - an activity written or moved to another deal takes that deal's owner;
# - a deal given to someone else gives its activities the new owner.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_FORWARD = [
    """
    UPDATE accounts_activity AS a SET deal_owner_id = o.owner_id
    FROM accounts_opportunity AS o WHERE o.id = a.opportunity_id
    """,
    """
    CREATE FUNCTION accounts_activity_take_deal_owner() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.opportunity_id IS NULL THEN
            NEW.deal_owner_id := NULL;
        ELSE
            SELECT owner_id INTO NEW.deal_owner_id
            FROM accounts_opportunity WHERE id = NEW.opportunity_id;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER accounts_activity_take_deal_owner
    BEFORE INSERT OR UPDATE OF opportunity_id, deal_owner_id ON accounts_activity
    FOR EACH ROW EXECUTE FUNCTION accounts_activity_take_deal_owner()
    """,
    """
    CREATE FUNCTION accounts_opportunity_give_owner() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE accounts_activity SET deal_owner_id = NEW.owner_id
        WHERE opportunity_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER accounts_opportunity_give_owner
    AFTER UPDATE OF owner_id ON accounts_opportunity
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION accounts_opportunity_give_owner()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS accounts_opportunity_give_owner ON accounts_opportunity",
    "DROP FUNCTION IF EXISTS accounts_opportunity_give_owner()",
    "DROP TRIGGER IF EXISTS accounts_activity_take_deal_owner ON accounts_activity",
    "DROP FUNCTION IF EXISTS accounts_activity_take_deal_owner()",
]

# SQLite has no BEFORE triggers that set NEW: the row is corrected right after it is written
# (its triggers do not fire themselves again: recursive_triggers is off by default).
SQLITE_TAKE = """
    UPDATE accounts_activity SET deal_owner_id = (
        SELECT owner_id FROM accounts_opportunity WHERE id = NEW.opportunity_id
    ) WHERE id = NEW.id;
"""
SQLITE_FORWARD = [
    """
    UPDATE accounts_activity SET deal_owner_id = (
        SELECT owner_id FROM accounts_opportunity
        WHERE accounts_opportunity.id = accounts_activity.opportunity_id
    )
    """,
    f"""
    CREATE TRIGGER accounts_activity_take_deal_owner_insert
    AFTER INSERT ON accounts_activity FOR EACH ROW BEGIN {SQLITE_TAKE} END
    """,
    f"""
    CREATE TRIGGER accounts_activity_take_deal_owner_update
    AFTER UPDATE OF opportunity_id, deal_owner_id ON accounts_activity
    FOR EACH ROW BEGIN {SQLITE_TAKE} END
    """,
    """
    CREATE TRIGGER accounts_opportunity_give_owner
    AFTER UPDATE OF owner_id ON accounts_opportunity
    FOR EACH ROW WHEN OLD.owner_id IS NOT NEW.owner_id BEGIN
        UPDATE accounts_activity SET deal_owner_id = NEW.owner_id
        WHERE opportunity_id = NEW.id;
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS accounts_opportunity_give_owner",
    "DROP TRIGGER IF EXISTS accounts_activity_take_deal_owner_update",
    "DROP TRIGGER IF EXISTS accounts_activity_take_deal_owner_insert",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"Activity.deal_owner has no triggers for {schema_editor.connection.vendor}."
            )
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_activity_occurred_at_id_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="deal_owner",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(fields=["deal_owner", "occurred_at"], name="activity_deal_owner_at"),
        ),
    ]
