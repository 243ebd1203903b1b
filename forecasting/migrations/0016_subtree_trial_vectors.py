"""Managers' subtree trial totals (``SubtreeTrialVector``), stored uncompressed as the own
vectors are (0015): an edit's recompute adds the stored totals of the direct reports around
its chains instead of reading everyone's vectors. Empty until the next full recompute, and
an edit's run sums a manager without a stored total from below, as before.
"""


import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _storage(storage: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("forecasting", "SubtreeTrialVector")._meta.db_table
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote('trials')} SET STORAGE {storage}"
        )

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('forecasting', '0015_trial_vectors_stored_uncompressed'),
        ('salesmgmt', '0014_user_created_event'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SubtreeTrialVector',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('trials', models.BinaryField()),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('period', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='salesmgmt.period')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['period_id', 'person_id'],
                'constraints': [models.UniqueConstraint(fields=('person', 'period'), name='subtree_trials_unique')],
            },
        ),
        migrations.RunPython(_storage("EXTERNAL"), _storage("EXTENDED")),
    ]
