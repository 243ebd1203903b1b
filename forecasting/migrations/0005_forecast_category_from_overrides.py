"""Move the rep's category from ``CategoryOverride`` onto ``Opportunity.forecast_category``.

Before: the forecast counted the latest override (a cleared one meaning "stage default") and
ignored the deal's own field, which creation filled with "pipeline" and which edits changed
without effect. After: the field is the rep's choice ("" = none). So each deal's field becomes
its latest override's category ("" when it has none or the latest cleared it), and the log's
``forecast_category`` rows are rebuilt from the overrides (a creation row with no choice, then
one row per override with who and when), so that replaying the log at any past moment gives
the category the forecast counted then. Every figure before and after is the same.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import migrations

BATCH = 2000
FIELD = "forecast_category"


def forwards(apps, schema_editor):
    Opportunity = apps.get_model("accounts", "Opportunity")
    OpportunityChange = apps.get_model("accounts", "OpportunityChange")
    CategoryOverride = apps.get_model("forecasting", "CategoryOverride")

    # When (and by whom) each deal's log starts: its creation rows.
    created = {}
    rows = OpportunityChange.objects.filter(field=FIELD).order_by("changed_at", "id")
    for opp_id, at, by in rows.values_list("opportunity_id", "changed_at", "changed_by_id"):
        created.setdefault(opp_id, (at, by))
    for opp_id, at, owner_id in Opportunity.objects.values_list("pk", "created_at", "owner_id"):
        created.setdefault(opp_id, (at, owner_id))

    overrides = defaultdict(list)
    for opp_id, category, by, at in (
        CategoryOverride.objects.order_by("created_at", "id")
        .values_list("opportunity_id", "category", "set_by_id", "created_at")
        .iterator(chunk_size=BATCH)
    ):
        overrides[opp_id].append((category or "", by, at))

    OpportunityChange.objects.filter(field=FIELD).delete()
    log = []
    chosen = defaultdict(list)
    for opp_id, (at, by) in created.items():
        log.append(
            OpportunityChange(
                opportunity_id=opp_id, field=FIELD, old_value="", new_value="",
                changed_by_id=by, changed_at=at,
            )
        )  # fmt: skip
        current = ""
        for category, set_by, set_at in overrides.get(opp_id, []):
            if category != current:
                log.append(
                    OpportunityChange(
                        opportunity_id=opp_id, field=FIELD, old_value=current,
                        new_value=category, changed_by_id=set_by, changed_at=set_at,
                    )
                )  # fmt: skip
                current = category
        if current:
            chosen[current].append(opp_id)
    OpportunityChange.objects.bulk_create(log, batch_size=BATCH)
    Opportunity.objects.exclude(**{FIELD: ""}).update(**{FIELD: ""})
    for category, ids in chosen.items():
        for start in range(0, len(ids), BATCH):
            Opportunity.objects.filter(pk__in=ids[start : start + BATCH]).update(
                **{FIELD: category}
            )


def backwards(apps, schema_editor):
    """One override per deal with a choice (by its owner); the field keeps the choice."""
    Opportunity = apps.get_model("accounts", "Opportunity")
    CategoryOverride = apps.get_model("forecasting", "CategoryOverride")
    CategoryOverride.objects.bulk_create(
        (
            CategoryOverride(opportunity_id=pk, category=category, set_by_id=owner_id)
            for pk, category, owner_id in Opportunity.objects.exclude(**{FIELD: ""}).values_list(
                "pk", FIELD, "owner_id"
            )
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_opportunity_forecast_category_blank_is_no_choice"),
        ("forecasting", "0004_kpi_request"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
