import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's names for the single-column foreign-key indexes (the same on every backend).
REDUNDANT_INDEXES = {
    "accounts_activity_owner_id_05332281": "owner_id",
    "accounts_activity_account_id_d7522568": "account_id",
    "accounts_activity_opportunity_id_fc737408": "opportunity_id",
}


class Migration(migrations.Migration):
    """Drop Activity's single-column indexes on owner, account and opportunity.

    Each column leads a composite index (activity_owner_at, activity_account_at,
    activity_opp_at) that serves the same lookups, so the extra indexes only cost writes and
    space. Only the indexes are dropped: a plain AlterField would also drop and re-add the
    foreign-key constraints, re-checking every activity row. Reversing recreates them;
    milestone keeps its index (no composite index starts with it).
    """

    dependencies = [
        ("accounts", "0002_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "accounts_activity" ("{column}")',
                )
                for name, column in REDUNDANT_INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="opportunity",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="accounts.opportunity",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="activities",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
