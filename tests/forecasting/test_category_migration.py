"""forecasting 0005: the latest override becomes the deal's chosen category, the log follows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import OpportunityFactory, UserFactory

BEFORE = [("forecasting", "0004_kpi_request")]
AFTER = [("forecasting", "0006_remove_category_override")]


def _migrate(targets=None):
    """Migrate to ``targets``; None: the latest state of every app (what the next test needs:
    later migrations drop tables an older state still has)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_latest_override_becomes_the_choice_and_the_log_is_rebuilt(process):
    rep, manager = UserFactory(), UserFactory()
    chosen, cleared, edited = (
        OpportunityFactory(owner=rep, process=process, forecast_category="") for _ in range(3)
    )
    t0 = timezone.now() - dt.timedelta(days=10)
    try:
        apps = _migrate(BEFORE)
        Opportunity = apps.get_model("accounts", "Opportunity")
        Change = apps.get_model("accounts", "OpportunityChange")
        Override = apps.get_model("forecasting", "CategoryOverride")
        # As the old code left them: creation wrote "pipeline"; a page edit changed the field
        # (ignored by the forecast); overrides were the choice (the latest row, "" cleared).
        Opportunity.objects.update(forecast_category="pipeline")
        Opportunity.objects.filter(pk=edited.pk).update(forecast_category="best_case")
        for deal in (chosen, cleared, edited):
            Change.objects.create(
                opportunity_id=deal.pk, field="forecast_category", new_value="pipeline",
                changed_by_id=rep.pk, changed_at=t0,
            )  # fmt: skip
        Change.objects.create(
            opportunity_id=edited.pk, field="forecast_category", old_value="pipeline",
            new_value="best_case", changed_by_id=rep.pk, changed_at=t0 + dt.timedelta(days=1),
        )  # fmt: skip
        for deal, categories in ((chosen, ["omitted", "commit"]), (cleared, ["commit", ""])):
            for day, category in enumerate(categories, start=2):
                Override.objects.create(
                    opportunity_id=deal.pk, category=category, set_by_id=manager.pk,
                    created_at=t0 + dt.timedelta(days=day),
                )  # fmt: skip

        apps = _migrate(AFTER)
        Opportunity = apps.get_model("accounts", "Opportunity")
        Change = apps.get_model("accounts", "OpportunityChange")

        values = dict(Opportunity.objects.values_list("pk", "forecast_category"))
        assert values == {chosen.pk: "commit", cleared.pk: "", edited.pk: ""}

        def log(deal):
            rows = Change.objects.filter(opportunity_id=deal.pk, field="forecast_category")
            return [
                (r.old_value, r.new_value, r.changed_by_id, (r.changed_at - t0).days)
                for r in rows.order_by("changed_at", "id")
            ]

        assert log(chosen) == [
            ("", "", rep.pk, 0),
            ("", "omitted", manager.pk, 2),
            ("omitted", "commit", manager.pk, 3),
        ]
        assert log(cleared) == [
            ("", "", rep.pk, 0),
            ("", "commit", manager.pk, 2),
            ("commit", "", manager.pk, 3),
        ]
        assert log(edited) == [("", "", rep.pk, 0)]
    finally:
        _migrate()
