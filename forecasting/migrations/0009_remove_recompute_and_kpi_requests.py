"""The request tables are gone: stale marks (salesmgmt.StaleMark) took their place."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("forecasting", "0008_pending_requests_to_stale_marks"),
    ]

    operations = [
        migrations.DeleteModel(name="KpiRequest"),
        migrations.DeleteModel(name="RecomputeRequest"),
    ]
