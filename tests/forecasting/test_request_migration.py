"""forecasting 0008/0009: unfinished recompute and KPI requests become stale marks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import UserFactory
from tests.forecasting.factories import quarter

BEFORE = [("forecasting", "0007_money_range")]
AFTER = [("forecasting", "0009_remove_recompute_and_kpi_requests")]


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_unfinished_requests_become_stale_marks_of_their_kind(today):
    rep_a, rep_b = UserFactory(), UserFactory()
    period = quarter(today)
    try:
        apps = _migrate(BEFORE)
        Recompute = apps.get_model("forecasting", "RecomputeRequest")
        Kpi = apps.get_model("forecasting", "KpiRequest")
        now = timezone.now()
        Recompute.objects.create(person_id=rep_a.pk, period_id=period.pk)  # pending
        Recompute.objects.create(person_id=rep_b.pk, period_id=period.pk, started_at=now)
        Recompute.objects.create(  # finished: nothing left to do
            person_id=rep_a.pk, period_id=period.pk, started_at=now, finished_at=now
        )
        Kpi.objects.create(person_id=rep_b.pk, period_id=period.pk)

        apps = _migrate(AFTER)
        StaleMark = apps.get_model("salesmgmt", "StaleMark")

        marks = StaleMark.objects.values_list("kind", "person_key", "period_key", "started_at")
        assert sorted(marks) == [
            ("kpis", rep_b.pk, period.pk, None),
            ("rollups", rep_a.pk, period.pk, None),
            ("rollups", rep_b.pk, period.pk, None),
        ]
    finally:
        _migrate()
