"""The stage changes by time (issue 21, the KPI stage at 1 M deals): which deals changed stage
in a window, from a partial index holding the deal, instead of the time index's rows of every
field (three of four not stage rows) or a scan of all 9 M change rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0023_activity_range_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="opportunitychange",
            index=models.Index(
                condition=models.Q(("field", "stage")),
                fields=["changed_at", "opportunity"],
                name="change_stage_at",
            ),
        ),
    ]
