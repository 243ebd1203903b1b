"""``Opportunity.forecast_category`` becomes the rep's choice: blank (the new default) is none.

State only: Django keeps defaults and ``blank`` in Python, so the column is unchanged. (An
``AlterField`` would remake the table on SQLite, which the deal-owner triggers of 0006 refuse.)
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_activity_deal_owner"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="opportunity",
                    name="forecast_category",
                    field=models.CharField(
                        blank=True,
                        choices=[
                            ("pipeline", "Pipeline"),
                            ("best_case", "Best case"),
                            ("commit", "Commit"),
                            ("omitted", "Omitted"),
                        ],
                        default="",
                        max_length=16,
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
