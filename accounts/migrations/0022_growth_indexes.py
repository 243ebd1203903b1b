"""The milestone audit trail's list order as an index (issue 21, growth at 10 M rows): the
API list pages on it with a keyset instead of sorting every completion."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0021_opportunity_lead_source"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="milestonecompletion",
            index=models.Index(fields=["completed_at", "id"], name="completion_at_id"),
        ),
    ]
