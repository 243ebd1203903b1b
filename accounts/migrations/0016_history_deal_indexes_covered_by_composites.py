"""The history tables' own index on the deal goes: the composite indexes change_opp_at and
completion_opp_ms_at lead with the deal and serve the same lookups (and cascades). One index
less to maintain for every row an import writes (about twelve history rows a deal).

Only the index is dropped (same name on SQLite and PostgreSQL): Django's AlterField would
rebuild both tables on SQLite and re-check the foreign key on PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("accounts_milestonecompletion", "accounts_milestonecompletion_opportunity_id_b6e7eac9"),
    ("accounts_opportunitychange", "accounts_opportunitychange_opportunity_id_05d8a842"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0015_products_imported_deals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}";',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("opportunity_id");',
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="milestonecompletion",
                    name="opportunity",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="milestone_completions",
                        to="accounts.opportunity",
                    ),
                ),
                migrations.AlterField(
                    model_name="opportunitychange",
                    name="opportunity",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="accounts.opportunity",
                    ),
                ),
            ],
        ),
    ]
