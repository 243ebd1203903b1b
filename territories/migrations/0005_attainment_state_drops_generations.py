"""Attainment staleness moves to the one refresh path's marks (salesmgmt.StaleMark).

A period stale under the generation counters (changes counted since its last refresh) gets
a pending "attainment" mark first, so no change committed before the upgrade is lost.
"""

from django.db import migrations
from django.db.models import F, Q


def generations_to_marks(apps, schema_editor):
    AttainmentPeriod = apps.get_model("territories", "AttainmentPeriod")
    StaleMark = apps.get_model("salesmgmt", "StaleMark")
    stale = AttainmentPeriod.objects.filter(
        Q(computed_generation__isnull=True) | Q(computed_generation__lt=F("generation"))
    ).values_list("period_id", flat=True)
    StaleMark.objects.bulk_create(
        [StaleMark(kind="attainment", person_key=0, period_key=pk) for pk in stale],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("territories", "0004_money_range"),
        ("salesmgmt", "0006_stale_marks"),
    ]

    operations = [
        migrations.RunPython(generations_to_marks, migrations.RunPython.noop),
        migrations.RemoveField(model_name="attainmentperiod", name="computed_generation"),
        migrations.RemoveField(model_name="attainmentperiod", name="generation"),
    ]
