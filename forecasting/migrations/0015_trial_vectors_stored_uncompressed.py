"""Trial vectors are stored as they are (STORAGE EXTERNAL), not compressed.

Each vector is 40 kB of float32 sums, which compress by about a third at the cost of the
server's CPU on every write: a full run writes 150-200 MB of them per period not yet over, and
the compression was most of the server's time of that write (1.2 s against 5-9 s per period at
1 M deals). The disk the vectors take grows by about half; reads skip the decompression.
Rows already stored stay as they are until rewritten. PostgreSQL only.
"""

from django.db import migrations


def _alter(storage: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("forecasting", "TrialVector")._meta.db_table
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote('trials')} SET STORAGE {storage}"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("forecasting", "0014_recompute_score_stage"),
    ]

    operations = [
        migrations.RunPython(_alter("EXTERNAL"), _alter("EXTENDED")),
    ]
