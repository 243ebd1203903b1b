"""Before contact and activity external ids become unique (as accounts' and deals' did in
0008/0009): keep the oldest record's id as it is and give each later duplicate ``<id>~<pk>``,
so nothing is lost and the constraint can be added."""

from django.db import migrations
from django.db.models import Count

SUFFIX = "~{pk}"
MAX_LENGTH = 64


def deduplicate(apps, schema_editor):
    for name in ("Contact", "Activity"):
        model = apps.get_model("accounts", name)
        repeated = (
            model.objects.exclude(external_id="")
            .values("external_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("external_id", flat=True)
        )
        for external_id in list(repeated):
            later = model.objects.filter(external_id=external_id).order_by("id")[1:]
            for record in later:
                suffix = SUFFIX.format(pk=record.pk)
                # update(), not save(): no signal, and activities' triggers are left alone.
                model.objects.filter(pk=record.pk).update(
                    external_id=external_id[: MAX_LENGTH - len(suffix)] + suffix
                )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_money_range")]

    # Renamed ids are not merged back: reversing leaves them as they are.
    operations = [migrations.RunPython(deduplicate, migrations.RunPython.noop)]
