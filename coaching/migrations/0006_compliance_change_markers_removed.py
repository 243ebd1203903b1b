"""Compliance staleness moves to the one refresh path's marks (salesmgmt.StaleMark).

Each person with a ComplianceChange marker not yet refreshed gets a pending "compliance"
mark first, so no change committed before the upgrade is lost.
"""

from django.db import migrations


def markers_to_marks(apps, schema_editor):
    ComplianceChange = apps.get_model("coaching", "ComplianceChange")
    StaleMark = apps.get_model("salesmgmt", "StaleMark")
    people = set(ComplianceChange.objects.values_list("user_id", flat=True))
    StaleMark.objects.bulk_create(
        [StaleMark(kind="compliance", person_key=pk, period_key=0) for pk in sorted(people)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0005_money_range"),
        ("salesmgmt", "0006_stale_marks"),
    ]

    operations = [
        migrations.RunPython(markers_to_marks, migrations.RunPython.noop),
        migrations.DeleteModel(name="ComplianceChange"),
    ]
