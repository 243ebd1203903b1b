"""The activity indexes by owner, deal owner and deal end on the id (issue 21, growth at
10 M rows): a manager's list reads one range of each in the list's order, (occurred_at, id),
instead of sorting every activity the team can see. The new indexes are built before the old
ones go, so no read loses its index in between; each serves every lookup the old one did."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0022_growth_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(fields=["owner", "occurred_at", "id"], name="activity_owner_at_id"),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["opportunity", "occurred_at", "id"], name="activity_opp_at_id"
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["deal_owner", "occurred_at", "id"], name="activity_deal_owner_at_id"
            ),
        ),
        migrations.RemoveIndex(model_name="activity", name="activity_owner_at"),
        migrations.RemoveIndex(model_name="activity", name="activity_opp_at"),
        migrations.RemoveIndex(model_name="activity", name="activity_deal_owner_at"),
    ]
