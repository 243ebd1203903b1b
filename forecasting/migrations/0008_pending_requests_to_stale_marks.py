"""Carry the recompute and KPI requests still waiting over to the one refresh path's marks."""

from django.db import migrations


def requests_to_marks(apps, schema_editor):
    RecomputeRequest = apps.get_model("forecasting", "RecomputeRequest")
    KpiRequest = apps.get_model("forecasting", "KpiRequest")
    StaleMark = apps.get_model("salesmgmt", "StaleMark")
    for kind, model in (("rollups", RecomputeRequest), ("kpis", KpiRequest)):
        # Unfinished, started or not: a started one's batch is gone with the old tasks.
        keys = set(
            model.objects.filter(finished_at__isnull=True).values_list("person_id", "period_id")
        )
        StaleMark.objects.bulk_create(
            [StaleMark(kind=kind, person_key=p, period_key=q) for p, q in sorted(keys)],
            ignore_conflicts=True,
        )


def marks_to_requests(apps, schema_editor):
    RecomputeRequest = apps.get_model("forecasting", "RecomputeRequest")
    KpiRequest = apps.get_model("forecasting", "KpiRequest")
    StaleMark = apps.get_model("salesmgmt", "StaleMark")
    User = apps.get_model("salesmgmt", "User")
    Period = apps.get_model("salesmgmt", "Period")
    people = set(User.objects.values_list("pk", flat=True))
    periods = set(Period.objects.values_list("pk", flat=True))
    for kind, model in (("rollups", RecomputeRequest), ("kpis", KpiRequest)):
        marks = StaleMark.objects.filter(kind=kind, started_at__isnull=True)
        model.objects.bulk_create(
            [
                model(person_id=p, period_id=q)
                for p, q in marks.values_list("person_key", "period_key")
                if p in people and q in periods
            ],
            ignore_conflicts=True,
        )
        marks.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("forecasting", "0007_money_range"),
        ("salesmgmt", "0006_stale_marks"),
    ]

    operations = [migrations.RunPython(requests_to_marks, marks_to_requests)]
